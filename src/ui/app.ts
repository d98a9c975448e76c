import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { parseBody } from "../api/parse-body.ts";
import { httpStatusFor } from "../api/http-status.ts";
import { ErrorCode, SnapvmError, isErrno, isSnapvmError } from "../errors/index.ts";
import { WEB_ASSETS } from "../paths/index.ts";
import { requireToken } from "./auth.ts";
import { uiOpenApiDocument } from "./openapi.ts";
import type { UiOperations } from "./operations.ts";
import { CreateBody, ForkBody, InstanceAction, SnapshotAction, SnapshotBody } from "./requests.ts";

export interface UiAppOptions {
  token: string;
  port: number;
  operations: UiOperations;
  /** dist/web: index.html, app.js, app.css. */
  assetsDir: string;
}

/** Request bodies are small JSON objects. */
const MAX_BODY_BYTES = 64 * 1024;

function parseParam<S extends z.ZodType>(schema: S, value: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new SnapvmError(ErrorCode.InvalidArgument, `unknown action "${value}"`);
  return result.data;
}

/** The dashboard: its page and assets, and /api, every request behind the token. */
export function buildUiApp(options: UiAppOptions, onUnexpected: (error: unknown) => void): Hono {
  const { operations: ops } = options;
  const app = new Hono();
  app.use("*", requireToken(options.token, options.port));
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: new SnapvmError(ErrorCode.InputTooLarge, `request bodies are at most ${MAX_BODY_BYTES} bytes`).toJSON() }, 413),
    }),
  );
  app.get("/api/instances", async (c) => c.json(await ops.list()));
  app.get("/api/bench", async (c) => c.json(await ops.bench()));
  app.get("/api/openapi.json", (c) => c.json(uiOpenApiDocument()));
  app.post("/api/instances", async (c) => c.json(await ops.create(await parseBody(c, CreateBody))));
  app.delete("/api/instances/:name", async (c) => c.json(await ops.remove(c.req.param("name"))));
  app.post("/api/instances/:name/actions/:action", async (c) => c.json(await ops.act(c.req.param("name"), parseParam(InstanceAction, c.req.param("action")))));
  app.get("/api/instances/:name/snapshots", async (c) => c.json(await ops.tree(c.req.param("name"))));
  app.get("/api/instances/:name/events", async (c) => c.json(await ops.events(c.req.param("name"))));
  app.get("/api/instances/:name/logs", async (c) => c.json(await ops.logs(c.req.param("name"))));
  app.post("/api/instances/:name/snapshots", async (c) => c.json(await ops.snapshot(c.req.param("name"), (await parseBody(c, SnapshotBody)).tag)));
  app.delete("/api/instances/:name/snapshots/:tag", async (c) => c.json(await ops.removeSnapshot(c.req.param("name"), c.req.param("tag"))));
  app.post("/api/instances/:name/snapshots/:tag/fork", async (c) =>
    c.json(await ops.fork(c.req.param("name"), c.req.param("tag"), await parseBody(c, ForkBody))),
  );
  app.post("/api/instances/:name/snapshots/:tag/actions/:action", async (c) =>
    c.json(await ops.snapshotAction(c.req.param("name"), c.req.param("tag"), parseParam(SnapshotAction, c.req.param("action")))),
  );
  app.all("/api/*", () => {
    throw new SnapvmError(ErrorCode.InvalidArgument, "no such dashboard API route");
  });
  app.get("/:file?", async (c) => {
    const file = c.req.param("file") ?? "index.html";
    const type = WEB_ASSETS[file];
    if (type === undefined) return c.text("not found", 404);
    try {
      return c.body(await readFile(join(options.assetsDir, file)), 200, { "content-type": type, "cache-control": "no-store" });
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
      throw new SnapvmError(ErrorCode.Internal, `the dashboard's front end is not built (${join(options.assetsDir, file)} is missing)`, {
        hint: "Run `npm run build`.",
      });
    }
  });
  app.onError((error, c) => {
    if (isSnapvmError(error)) return c.json({ error: error.toJSON() }, httpStatusFor(error.code));
    onUnexpected(error);
    return c.json({ error: { code: ErrorCode.Internal, message: error.message } }, 500);
  });
  return app;
}
