import { chmod, unlink } from "node:fs/promises";
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiPaths } from "../api/paths.ts";
import {
  ConfigPatch,
  type AgentStatus,
  ExecRequest,
  SnapshotRequest,
  MigrateFinishRequest,
  MigrateRequest,
  MigrateResumeRequest,
  type MigrateResumeResponse,
  type MigrateFinishResponse,
  type MigrateResponse,
  StreamSnapshotRequest,
  StopRequest,
  type ExecResponse,
  type RuntimeConfig,
  type SaveFigures,
  type SnapshotResponse,
  type StreamSnapshotResponse,
  type StopResponse,
} from "../api/schemas.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../errors/index.ts";
import { parseBody } from "../api/parse-body.ts";
import { httpStatusFor } from "../api/http-status.ts";
import { openApiDocument } from "../api/openapi.ts";

/** What the API serves; the agent's controller implements it. */
export interface AgentHandlers {
  status(): AgentStatus;
  exec(request: ExecRequest): Promise<ExecResponse>;
  stop(request: StopRequest): Promise<StopResponse>;
  save(): Promise<SaveFigures>;
  patchConfig(patch: ConfigPatch): RuntimeConfig;
  snapshot(request: SnapshotRequest): Promise<SnapshotResponse>;
  streamSnapshot(request: StreamSnapshotRequest): Promise<StreamSnapshotResponse>;
  migrate(request: MigrateRequest): Promise<MigrateResponse>;
  finishMigration(request: MigrateFinishRequest): Promise<MigrateFinishResponse>;
  resumeMigration(request: MigrateResumeRequest): Promise<MigrateResumeResponse>;
}

/**
 * The largest request body the API reads. Requests are small JSON objects, except an exec's, which
 * carries the command's stdin (base64); past the cap a request is refused (413) before it is buffered.
 */
export const MAX_REQUEST_BODY_BYTES = 2 ** 20;
export const MAX_EXEC_BODY_BYTES = 16 * 2 ** 20;

function limit(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) => {
      const error = new SnapvmError(ErrorCode.InputTooLarge, `the request body to ${c.req.path} is larger than ${maxSize} bytes`, {
        details: { maxBytes: maxSize },
      });
      return c.json({ error: error.toJSON() }, httpStatusFor(error.code));
    },
  });
}

export function buildApp(handlers: AgentHandlers, onUnexpected: (error: unknown) => void): Hono {
  const app = new Hono();
  const small = limit(MAX_REQUEST_BODY_BYTES);
  app.get(ApiPaths.status, (c) => c.json(handlers.status()));
  app.get(ApiPaths.openapi, (c) => c.json(openApiDocument()));
  app.post(ApiPaths.exec, limit(MAX_EXEC_BODY_BYTES), async (c) => c.json(await handlers.exec(await parseBody(c, ExecRequest))));
  app.post(ApiPaths.stop, small, async (c) => c.json(await handlers.stop(await parseBody(c, StopRequest))));
  app.post(ApiPaths.save, small, async (c) => c.json(await handlers.save()));
  app.post(ApiPaths.snapshots, small, async (c) => c.json(await handlers.snapshot(await parseBody(c, SnapshotRequest))));
  app.post(ApiPaths.snapshotStream, small, async (c) => c.json(await handlers.streamSnapshot(await parseBody(c, StreamSnapshotRequest))));
  app.post(ApiPaths.migrate, small, async (c) => c.json(await handlers.migrate(await parseBody(c, MigrateRequest))));
  app.post(ApiPaths.migrateResume, small, async (c) => c.json(await handlers.resumeMigration(await parseBody(c, MigrateResumeRequest))));
  app.post(ApiPaths.migrateFinish, small, async (c) => c.json(await handlers.finishMigration(await parseBody(c, MigrateFinishRequest))));
  app.patch(ApiPaths.config, small, async (c) => c.json(handlers.patchConfig(await parseBody(c, ConfigPatch))));
  app.onError((error, c) => {
    if (isSnapvmError(error)) return c.json({ error: error.toJSON() }, httpStatusFor(error.code));
    onUnexpected(error);
    return c.json({ error: { code: ErrorCode.AgentFailed, message: error.message } }, 500);
  });
  return app;
}

/** Serves the API on a unix socket only the owner may use. */
export async function listenOnSocket(app: Hono, socketPath: string): Promise<Server> {
  await unlink(socketPath).catch(() => undefined);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return server;
}
