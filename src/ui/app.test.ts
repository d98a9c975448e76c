import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { buildUiApp } from "./app.ts";
import { TOKEN_HEADER, cookieName } from "./auth.ts";
import type { UiOperations } from "./operations.ts";

const TOKEN = "t0ken-for-tests";
const PORT = 4321;
const assets = mkdtempSync(join(tmpdir(), "snapvm-ui-assets-"));
writeFileSync(join(assets, "index.html"), "<!doctype html><title>snapvm</title>");
writeFileSync(join(assets, "app.js"), "console.log(1)");
after(() => {
  rmSync(assets, { recursive: true, force: true });
});

const calls: string[] = [];
const ops: UiOperations = {
  list: () => Promise.resolve([{ name: "web", state: "running", ports: [] }]),
  create: (body) => {
    calls.push(`create ${body.name} ${body.memory ?? ""}`);
    return Promise.resolve({ name: body.name });
  },
  act: (name, action) => {
    calls.push(`${action} ${name}`);
    if (name === "gone") return Promise.reject(new SnapvmError(ErrorCode.InstanceNotFound, `instance "gone" does not exist`));
    return Promise.resolve({ name });
  },
  remove: (name) => Promise.resolve({ name, deleted: true }),
  tree: (name) => Promise.resolve({ instance: name, state: "running", snapshots: [], broken: [], nowParent: null }),
  snapshot: (name, tag) => Promise.resolve({ instance: name, tag }),
  snapshotAction: (name, tag, action) => Promise.resolve({ name, tag, action }),
  removeSnapshot: () => Promise.reject(new SnapvmError(ErrorCode.InvalidTransition, "snapshot a@s1 has forks: f-1")),
  fork: (name, tag, body) => {
    calls.push(`fork ${name}@${tag} ${body.name} ${body.count}`);
    return Promise.resolve({ forks: [] });
  },
  bench: () => Promise.resolve([]),
  events: () => Promise.resolve([{ time: "2026-01-01T00:00:00Z", event: "state", state: "running" }]),
  logs: () => Promise.resolve(['{"level":30,"msg":"ready"}']),
  agentSocket: () => "/nonexistent",
};
const unexpected: unknown[] = [];
const app = buildUiApp({ token: TOKEN, port: PORT, operations: ops, assetsDir: assets }, (e) => unexpected.push(e));
const url = (path: string): string => `http://127.0.0.1:${PORT}${path}`;
const withHeader = { [TOKEN_HEADER]: TOKEN, "content-type": "application/json" };

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

test("without the token every route is 401 with E_UI_UNAUTHORIZED, the page and assets too", async () => {
  for (const path of ["/", "/app.js", "/api/instances", "/api/instances/web/snapshots"]) {
    const response = await app.request(url(path));
    assert.equal(response.status, 401, path);
    assert.equal(await errorCode(response), ErrorCode.UiUnauthorized);
  }
  const wrong = await app.request(url("/api/instances?token=nope"));
  assert.equal(wrong.status, 401);
});

test("the printed URL's ?token= opens the page and sets an HttpOnly SameSite=Strict cookie the assets then load with", async () => {
  const page = await app.request(url(`/?token=${TOKEN}`));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>snapvm/);
  const cookie = page.headers.get("set-cookie") ?? "";
  assert.match(cookie, new RegExp(`^${cookieName(PORT)}=${TOKEN};`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const script = await app.request(url("/app.js"), { headers: { cookie: `${cookieName(PORT)}=${TOKEN}` } });
  assert.equal(script.status, 200);
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal((await app.request(url("/package.json"), { headers: { cookie: `${cookieName(PORT)}=${TOKEN}` } })).status, 404);
});

test("a state-changing request needs the header: the cookie or ?token= alone is refused", async () => {
  const byCookie = await app.request(url("/api/instances/web/actions/stop"), { method: "POST", headers: { cookie: `${cookieName(PORT)}=${TOKEN}` } });
  assert.equal(byCookie.status, 401);
  assert.match(((await byCookie.json()) as { error: { message: string } }).error.message, /x-snapvm-token header/);
  const byQuery = await app.request(url(`/api/instances/web/actions/stop?token=${TOKEN}`), { method: "POST" });
  assert.equal(byQuery.status, 401);
  assert.deepEqual(calls, []);
  const ok = await app.request(url("/api/instances/web/actions/stop"), { method: "POST", headers: withHeader });
  assert.equal(ok.status, 200);
  assert.deepEqual(calls.splice(0), ["stop web"]);
});

test("routes call the operations with parsed bodies; errors keep their code and HTTP status", async () => {
  assert.deepEqual(await (await app.request(url("/api/instances"), { headers: withHeader })).json(), [{ name: "web", state: "running", ports: [] }]);
  assert.deepEqual(await (await app.request(url("/api/instances/web/events"), { headers: withHeader })).json(), [
    { time: "2026-01-01T00:00:00Z", event: "state", state: "running" },
  ]);
  assert.deepEqual(await (await app.request(url("/api/instances/web/logs"), { headers: withHeader })).json(), ['{"level":30,"msg":"ready"}']);
  const created = await app.request(url("/api/instances"), { method: "POST", headers: withHeader, body: JSON.stringify({ name: "new", memory: "256M" }) });
  assert.equal(created.status, 200);
  const fork = await app.request(url("/api/instances/web/snapshots/s1/fork"), {
    method: "POST",
    headers: withHeader,
    body: JSON.stringify({ name: "f", count: 2 }),
  });
  assert.equal(fork.status, 200);
  assert.deepEqual(calls.splice(0), ["create new 256M", "fork web@s1 f 2"]);

  const bad = await app.request(url("/api/instances"), { method: "POST", headers: withHeader, body: JSON.stringify({ name: "x", extra: 1 }) });
  assert.equal(bad.status, 400);
  assert.equal(await errorCode(bad), ErrorCode.InvalidArgument);
  const unknownAction = await app.request(url("/api/instances/web/actions/explode"), { method: "POST", headers: withHeader });
  assert.equal(unknownAction.status, 400);
  const missing = await app.request(url("/api/instances/gone/actions/start"), { method: "POST", headers: withHeader });
  assert.equal(missing.status, 404);
  assert.equal(await errorCode(missing), ErrorCode.InstanceNotFound);
  const refused = await app.request(url("/api/instances/a/snapshots/s1"), { method: "DELETE", headers: withHeader });
  assert.equal(refused.status, 409);
  assert.deepEqual(await refused.json(), { error: { code: ErrorCode.InvalidTransition, message: "snapshot a@s1 has forks: f-1", details: {} } });
  assert.deepEqual(unexpected, []);
});

test("/api/openapi.json documents every /api route the app serves", async () => {
  const doc = (await (await app.request(url("/api/openapi.json"), { headers: withHeader })).json()) as { paths: Record<string, Record<string, unknown>> };
  const served = app.routes
    .filter((r) => r.path.startsWith("/api/") && !r.path.includes("*"))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  assert.ok(served.length >= 10);
  for (const route of served) {
    const [method = "", path = ""] = route.split(" ");
    assert.ok(doc.paths[path]?.[method] !== undefined, `${route} is not documented`);
  }
  assert.ok(doc.paths["/api/instances/{name}/console"]?.["get"] !== undefined, "the console websocket is documented");
});
