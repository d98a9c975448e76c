import { z } from "zod";
import { ApiPaths } from "./paths.ts";
import {
  AgentStatus,
  ApiErrorBody,
  ConfigPatch,
  ExecRequest,
  ExecResponse,
  RuntimeConfig,
  SaveFigures,
  SnapshotRequest,
  SnapshotResponse,
  MigrateFinishRequest,
  MigrateFinishResponse,
  MigrateRequest,
  MigrateResponse,
  MigrateResumeRequest,
  MigrateResumeResponse,
  StreamSnapshotRequest,
  StreamSnapshotResponse,
  StopRequest,
  StopResponse,
} from "./schemas.ts";

const json = (schema: z.ZodType): { content: { "application/json": { schema: unknown } } } => ({
  content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) } },
});

function operation(summary: string, response: z.ZodType, request?: z.ZodType): Record<string, unknown> {
  return {
    summary,
    ...(request === undefined ? {} : { requestBody: { required: true, ...json(request) } }),
    responses: { "200": { description: "OK", ...json(response) }, default: { description: "Error", ...json(ApiErrorBody) } },
  };
}

/** OpenAPI 3.1 for /v1, generated from the same zod schemas the agent validates with. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "snapvm agent", version: "1" },
    paths: {
      [ApiPaths.status]: { get: operation("The instance's state, pids, accelerator and timings", AgentStatus) },
      [ApiPaths.exec]: { post: operation("Run a command in the guest", ExecResponse, ExecRequest) },
      [ApiPaths.stop]: { post: operation("Stop: save (suspend), shut down, or kill", StopResponse, StopRequest) },
      [ApiPaths.save]: { post: operation("Save the VM state and exit", SaveFigures) },
      [ApiPaths.snapshots]: { post: operation("Take a live snapshot (disk and memory) with a short pause", SnapshotResponse, SnapshotRequest) },
      [ApiPaths.snapshotStream]: {
        post: operation(
          "Stream a live snapshot's state to a unix socket the caller listens on (pre-copy; the guest pauses for the switch-over only); the top disk layer freezes",
          StreamSnapshotResponse,
          StreamSnapshotRequest,
        ),
      },
      [ApiPaths.console]: {
        get: {
          summary:
            "The serial console as a websocket (Upgrade: websocket): binary frames of raw bytes both ways; the agent's scrollback (up to 64 KiB) comes first; any number of viewers",
          responses: { "101": { description: "Switching to the websocket protocol" }, default: { description: "Error", ...json(ApiErrorBody) } },
        },
      },
      [ApiPaths.migrate]: {
        post: operation(
          "Migrate to another host through two forwarded unix sockets (pre-copy, disk mirrored); the guest stays paused until /v1/migrate/finish",
          MigrateResponse,
          MigrateRequest,
        ),
      },
      [ApiPaths.migrateResume]: {
        post: operation("Resume a post-copy broken after its switch-over, through a new forwarded socket", MigrateResumeResponse, MigrateResumeRequest),
      },
      [ApiPaths.migrateFinish]: {
        post: operation(
          "End a migration: the destination took over (this QEMU ends) or not (the guest resumes here)",
          MigrateFinishResponse,
          MigrateFinishRequest,
        ),
      },
      [ApiPaths.config]: { patch: operation("Change runtime settings such as saveOnStop", RuntimeConfig, ConfigPatch) },
    },
  };
}

/** docs/openapi.json as committed: a test fails while it differs (node --import tsx scripts/gen-docs.ts). */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
