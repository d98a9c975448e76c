import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { once } from "node:events";
import WebSocket, { WebSocketServer } from "ws";
import { ApiPaths } from "../api/paths.ts";
import { cookieName } from "./auth.ts";
import type { UiOperations } from "./operations.ts";
import { startUiServer, type UiServer } from "./server.ts";

const dir = mkdtempSync(join(tmpdir(), "snapvm-ui-server-"));
const agentSocket = join(dir, "agent.sock");
const TOKEN = "ws-test-token";
let agent: Server;
let ui: UiServer;
const typed: string[] = [];

before(async () => {
  writeFileSync(join(dir, "index.html"), "<!doctype html>");
  // A stand-in agent: its /v1/console sends a scrollback, then echoes what it is sent.
  agent = createServer();
  const wss = new WebSocketServer({ noServer: true });
  agent.on("upgrade", (request, socket, head) => {
    assert.equal(request.url, ApiPaths.console);
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.send(Buffer.from("scrollback$ "));
      ws.on("message", (data: Buffer) => {
        typed.push(data.toString());
        ws.send(Buffer.concat([Buffer.from("echo:"), data]));
      });
    });
  });
  await new Promise<void>((resolve) => agent.listen(agentSocket, resolve));
  const ops = { agentSocket: (name: string) => (name === "web" ? agentSocket : join(dir, "none.sock")) } as Partial<UiOperations> as UiOperations;
  ui = await startUiServer({
    listen: { host: "127.0.0.1", port: 0, loopback: true },
    token: TOKEN,
    operations: ops,
    assetsDir: dir,
    onUnexpected: () => undefined,
  });
});
after(async () => {
  await ui.close();
  agent.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(path: string, headers: Record<string, string>): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${ui.port}${path}`, { headers });
}

async function refusedWith(ws: WebSocket): Promise<number> {
  const [, response] = (await once(ws, "unexpected-response")) as [unknown, { statusCode: number; destroy(): void }];
  ws.on("error", () => undefined); // terminating a socket that never opened reports an error
  ws.terminate();
  return response.statusCode;
}

test("the URL carries a fresh token on loopback; the page loads with it and not without", async () => {
  assert.equal(ui.url, `http://127.0.0.1:${ui.port}/?token=${TOKEN}`);
  assert.equal((await fetch(ui.url)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${ui.port}/`)).status, 401);
});

test("a console websocket needs the token and the dashboard's own Origin", async () => {
  const origin = `http://127.0.0.1:${ui.port}`;
  assert.equal(await refusedWith(open("/api/instances/web/console", { origin })), 401);
  assert.equal(await refusedWith(open("/api/instances/web/console?token=wrong", { origin })), 401);
  assert.equal(await refusedWith(open(`/api/instances/web/console?token=${TOKEN}`, { origin: "http://evil.example" })), 403);
  assert.equal(await refusedWith(open(`/api/instances/web/console?token=${TOKEN}`, {})), 403);
  assert.equal(await refusedWith(open(`/api/elsewhere?token=${TOKEN}`, { origin })), 404);
});

test("two tabs proxy to the agent's /v1/console (by ?token= or cookie); a missing agent is reported with its code", async () => {
  const origin = `http://127.0.0.1:${ui.port}`;
  const tabs = [
    open(`/api/instances/web/console?token=${TOKEN}`, { origin }),
    open("/api/instances/web/console", { origin, cookie: `${cookieName(ui.port)}=${TOKEN}` }),
  ];
  // Listeners from the start: a frame that arrives while another is awaited must not be missed.
  const received = tabs.map((tab) => {
    const text: string[] = [];
    tab.on("message", (data: Buffer) => text.push(data.toString()));
    return text;
  });
  const until = async (check: () => boolean): Promise<void> => {
    while (!check()) await new Promise((r) => setTimeout(r, 10));
  };
  await until(() => received.every((r) => r.length > 0));
  assert.deepEqual(received, [["scrollback$ "], ["scrollback$ "]]);
  tabs[0]?.send("ls\n");
  await until(() => received[0]?.length === 2);
  assert.equal(received[0]?.[1], "echo:ls\n");
  assert.deepEqual(typed, ["ls\n"]);
  for (const tab of tabs) tab.close();

  const lost = open(`/api/instances/other/console?token=${TOKEN}`, { origin });
  const [report] = (await once(lost, "message")) as [Buffer];
  assert.equal((JSON.parse(report.toString()) as { error: { code: string } }).error.code, "E_GUEST_CHANNEL");
  const [code] = (await once(lost, "close")) as [number];
  assert.equal(code, 1011);
});
