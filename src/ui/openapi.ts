import { z } from "zod";
import { ApiErrorBody } from "../api/schemas.ts";
import { CreateBody, ForkBody, InstanceAction, SnapshotAction, SnapshotBody } from "./requests.ts";

const json = (schema: z.ZodType): { content: { "application/json": { schema: unknown } } } => ({
  content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) } },
});

const name = { name: "name", in: "path", required: true, schema: { type: "string" } };
const tag = { name: "tag", in: "path", required: true, schema: { type: "string" } };
const action = (values: z.ZodEnum): Record<string, unknown> => ({ name: "action", in: "path", required: true, schema: z.toJSONSchema(values) });

function operation(summary: string, parameters: unknown[], request?: z.ZodType): Record<string, unknown> {
  return {
    summary,
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(request === undefined ? {} : { requestBody: { required: true, ...json(request) } }),
    responses: {
      "200": { description: "OK: what the same CLI command prints with --json (see src/ui/wire.ts for the views)" },
      "401": { description: "No or wrong token (E_UI_UNAUTHORIZED)", ...json(ApiErrorBody) },
      default: { description: "Error", ...json(ApiErrorBody) },
    },
  };
}

/**
 * OpenAPI 3.1 for the dashboard's /api (served at /api/openapi.json). Every request carries the token
 * (x-snapvm-token header; GETs may use the cookie the page's URL set). Request bodies come from the
 * zod schemas the routes parse with.
 */
export function uiOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "snapvm dashboard (snapvm ui)", version: "1" },
    components: { securitySchemes: { token: { type: "apiKey", in: "header", name: "x-snapvm-token" } } },
    security: [{ token: [] }],
    paths: {
      "/api/openapi.json": { get: operation("This document", []) },
      "/api/instances": {
        get: operation("The instances table: state, accelerator, memory, saved state, uptime, ports, fork origin", []),
        post: operation("Create an instance", [], CreateBody),
      },
      "/api/bench": { get: operation("Charts of the latest bench results", []) },
      "/api/instances/{name}": { delete: operation("Delete an instance (a running one is stopped first)", [name]) },
      "/api/instances/{name}/actions/{action}": { post: operation("Start, stop, save or restart", [name, action(InstanceAction)]) },
      "/api/instances/{name}/snapshots": {
        get: operation("The snapshot tree: snapshots by parent, forks of each, where NOW is", [name]),
        post: operation("Take a snapshot (live while running)", [name], SnapshotBody),
      },
      "/api/instances/{name}/events": { get: operation("The instance's newest events", [name]) },
      "/api/instances/{name}/logs": { get: operation("The newest lines of the instance's agent log (QEMU's stderr included), oldest first", [name]) },
      "/api/instances/{name}/snapshots/{tag}": { delete: operation("Delete a snapshot (refused while forks depend on it)", [name, tag]) },
      "/api/instances/{name}/snapshots/{tag}/fork": { post: operation("Fork N instances from the snapshot and start them", [name, tag], ForkBody) },
      "/api/instances/{name}/snapshots/{tag}/actions/{action}": { post: operation("Restore or compress the snapshot", [name, tag, action(SnapshotAction)]) },
      "/api/instances/{name}/console": {
        get: {
          summary:
            "The serial console as a websocket (proxied to the agent's /v1/console): binary frames both ways; a text frame is an error report. Needs the token (query or cookie) and the dashboard's Origin",
          parameters: [name],
          responses: {
            "101": { description: "Switching to the websocket protocol" },
            "401": { description: "No or wrong token" },
            "403": { description: "Another origin" },
          },
        },
      },
    },
  };
}
