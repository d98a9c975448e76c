import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openAgentConsole } from "../api/console-client.ts";
import { attachConsoleHub } from "./console-ws.ts";
import type { Logger } from "./logger.ts";

test("GET /v1/console on agent.sock: scrollback first, typing reaches QEMU, viewers close when QEMU's console does", async () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-console-ws-"));
  const qemu = createServer();
  const agent = createHttpServer();
  try {
    const accepted = once(qemu, "connection") as Promise<[Socket]>;
    await new Promise<void>((resolve) => qemu.listen(join(dir, "console.sock"), resolve));
    await new Promise<void>((resolve) => agent.listen(join(dir, "agent.sock"), resolve));
    const warnings: unknown[] = [];
    await attachConsoleHub(agent, join(dir, "console.sock"), { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger);
    const [guest] = await accepted;
    guest.write("login: ");
    await new Promise((r) => setTimeout(r, 50));

    let seen = "";
    const viewer = await openAgentConsole(join(dir, "agent.sock"), "t", (chunk) => {
      seen += chunk.toString();
    });
    assert.ok(viewer !== undefined);
    const typed = once(guest, "data") as Promise<[Buffer]>;
    viewer.send(Buffer.from("root\n"));
    assert.equal((await typed)[0].toString(), "root\n");
    guest.write("# ");
    while (seen !== "login: # ") await new Promise((r) => setTimeout(r, 10));

    const closed = once(viewer, "close") as Promise<[number]>;
    guest.destroy(); // QEMU exits
    assert.equal((await closed)[0], 1000);
    assert.deepEqual(warnings, []);
  } finally {
    agent.close();
    qemu.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
