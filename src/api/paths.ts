/** The agent API's routes, versioned; the CLI and the agent both take them from here. */
export const ApiPaths = {
  status: "/v1/status",
  exec: "/v1/exec",
  stop: "/v1/stop",
  save: "/v1/save",
  config: "/v1/config",
  snapshots: "/v1/snapshots",
  snapshotStream: "/v1/snapshots/stream",
  /** A websocket (GET with Upgrade): the serial console, raw bytes both ways, scrollback first. */
  console: "/v1/console",
  migrate: "/v1/migrate",
  migrateFinish: "/v1/migrate/finish",
  migrateResume: "/v1/migrate/resume",
  openapi: "/v1/openapi.json",
} as const;
