import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { once } from "node:events";
import { connectUnixWithRetry } from "../util/connect-unix.ts";
import { ConsoleHub, type ConsoleViewer } from "./console-hub.ts";

const dir = mkdtempSync(join(tmpdir(), "snapvm-hub-"));
let server: Server;
let qemuSide: Promise<Socket>;

before(async () => {
  server = createServer();
  qemuSide = once(server, "connection").then(([s]) => s as Socket);
  await new Promise<void>((resolve) => server.listen(join(dir, "console.sock"), resolve));
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function viewer(): ConsoleViewer & { text: () => string; closed: boolean } {
  const chunks: Buffer[] = [];
  const v = {
    closed: false,
    write: (c: Buffer) => chunks.push(c),
    close: () => {
      v.closed = true;
    },
    text: () => Buffer.concat(chunks).toString(),
  };
  return v;
}

test("fans the console out to every viewer, replays a bounded scrollback, passes input, closes viewers with the console", async () => {
  const hub = new ConsoleHub(await connectUnixWithRetry(join(dir, "console.sock"), 1000), 8);
  const guest = await qemuSide;
  const early = viewer();
  hub.attach(early);
  guest.write("0123456789abc");
  await new Promise((r) => setTimeout(r, 50));
  const late = viewer();
  const detach = hub.attach(late);
  assert.equal(early.text(), "0123456789abc");
  assert.equal(late.text(), "56789abc", "the last 8 bytes only");
  guest.write("Z");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(late.text(), "56789abcZ");
  detach();
  assert.equal(hub.viewerCount, 1);
  hub.input(Buffer.from("ls\n"));
  const [typed] = (await once(guest, "data")) as [Buffer];
  assert.equal(typed.toString(), "ls\n");
  guest.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(early.closed);
  const afterClose = viewer();
  hub.attach(afterClose);
  assert.ok(afterClose.closed);
});
