import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestChannel } from "./channel.ts";

/** A guest agent of the given protocol version that records every request line and answers it. */
async function fakeAgent(version: number, seen: string[]): Promise<{ path: string; server: Server; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-channel-"));
  const path = join(dir, "guest.sock");
  const server = createServer((socket) => {
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        seen.push(line);
        const [verb, id] = line.split(" ");
        if (verb === "PING") socket.write(`PONG ${id} ${version}\n`);
        else if (verb === "TIME" && version >= 2) socket.write(`RESULT ${id} 0 - -\n`);
        else if (verb === "EXEC") socket.write(`RESULT ${id} 0 - -\n`);
        else socket.write(`ERROR ${id} unknown-verb\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server, dir };
}

for (const [version, expected] of [
  [2, /^TIME \d+ 1795382205$/],
  [1, /^EXEC \d+ \S+ -$/],
] as const) {
  test(`setClock speaks ${version === 2 ? "TIME" : "EXEC date -s"} to a version ${version} agent`, async (t) => {
    const seen: string[] = [];
    const agent = await fakeAgent(version, seen);
    t.after(() => {
      agent.server.close();
      rmSync(agent.dir, { recursive: true, force: true });
    });
    const channel = await GuestChannel.connect(agent.path, "test");
    t.after(() => {
      channel.close();
    });
    await channel.waitReady(5000);
    await channel.setClock(1795382205.4);
    const last = seen.at(-1) ?? "";
    assert.match(last, expected);
    if (version === 1) assert.equal(Buffer.from(last.split(" ")[2] ?? "", "base64").toString(), "date -u -s @1795382205");
  });
}
