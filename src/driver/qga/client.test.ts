import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { QgaClient } from "./client.ts";
import { qgaExec } from "./commands.ts";
import { fakeQga, type QgaRequest } from "./fake-qga.ts";

describe("QgaClient", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "snapvm-qga-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("syncs first, dropping a stale reply, then answers in order", async (t) => {
    const path = join(dir, "order.sock");
    const server = fakeQga(path, (request) => (request.execute === "guest-ping" ? '{"return": {}}\n' : `{"return": "${request.execute}"}\n`));
    server.on("connection", (socket) => socket.write('{"return": "stale from an earlier connection"}\n'));
    const client = await QgaClient.connect(path, "test");
    t.after(() => {
      client.close();
      server.close();
    });
    const [a, b] = await Promise.all([client.execute("guest-info"), client.execute("guest-get-time")]);
    assert.deepEqual([a, b], ["guest-info", "guest-get-time"]);
  });

  it("after a timeout resyncs, so the late reply is not taken for the next command's", async (t) => {
    const path = join(dir, "late.sock");
    const server = fakeQga(path, (request, socket) => {
      if (request.execute === "slow") {
        setTimeout(() => socket.write('{"return": "slow"}\n'), 150);
        return undefined;
      }
      return `{"return": "${request.execute}"}\n`;
    });
    const client = await QgaClient.connect(path, "test");
    t.after(() => {
      client.close();
      server.close();
    });
    await assert.rejects(client.execute("slow", undefined, { timeoutMs: 50 }), (error: unknown) => {
      assert.ok(isSnapvmError(error, ErrorCode.GuestTimeout));
      assert.equal(error.message, "test: qemu-guest-agent did not answer slow within 50 ms");
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(await client.execute("fast"), "fast");
  });

  it("turns an agent's error into E_GUEST_CHANNEL naming the command", async (t) => {
    const path = join(dir, "error.sock");
    const server = fakeQga(path, () => '{"error": {"class": "GenericError", "desc": "Command guest-exec has been disabled"}}\n');
    const client = await QgaClient.connect(path, "test");
    t.after(() => {
      client.close();
      server.close();
    });
    await assert.rejects(client.execute("guest-exec"), (error: unknown) => {
      assert.ok(isSnapvmError(error, ErrorCode.GuestChannel));
      assert.equal(error.message, "test: qemu-guest-agent refused guest-exec: Command guest-exec has been disabled (GenericError)");
      return true;
    });
  });

  it("rejects the pending call and every later one when the channel closes", async (t) => {
    const path = join(dir, "eof.sock");
    const server = fakeQga(path, (_request, socket) => {
      setTimeout(() => socket.destroy(), 20);
      return undefined;
    });
    const client = await QgaClient.connect(path, "test");
    t.after(() => {
      client.close();
      server.close();
    });
    const pending = client.execute("guest-ping", undefined, { timeoutMs: 5000 });
    const queued = client.execute("guest-ping", undefined, { timeoutMs: 5000 });
    for (const call of [pending, queued]) {
      await assert.rejects(call, (error: unknown) => isSnapvmError(error, ErrorCode.GuestChannel) && /channel closed/.test(error.message));
    }
    await assert.rejects(client.execute("guest-ping"), /the qemu-guest-agent channel closed/);
  });

  it("guest-exec: stdin in, polled status, base64 output and a signal as 128 + n", async (t) => {
    const path = join(dir, "exec.sock");
    const seen: QgaRequest[] = [];
    let polls = 0;
    const server = fakeQga(path, (request) => {
      seen.push(request);
      if (request.execute === "guest-exec") return `{"return": {"pid": ${request.arguments?.["arg"] === undefined ? 0 : 42}}}\n`;
      polls++;
      if (polls === 1) return '{"return": {"exited": false}}\n';
      if (polls === 2)
        return `{"return": {"exited": true, "exitcode": 3, "out-data": "${Buffer.from("out\n").toString("base64")}", "err-data": "${Buffer.from("err\n").toString("base64")}"}}\n`;
      return '{"return": {"exited": true, "signal": 9}}\n';
    });
    const client = await QgaClient.connect(path, "test");
    t.after(() => {
      client.close();
      server.close();
    });
    const result = await qgaExec(client, { path: "/bin/sh", args: ["-c", "cat"], stdin: Buffer.from("12345"), timeoutMs: 5000 });
    assert.deepEqual([result.exitCode, result.stdout.toString(), result.stderr.toString()], [3, "out\n", "err\n"]);
    assert.deepEqual(seen[0], { execute: "guest-exec", arguments: { path: "/bin/sh", arg: ["-c", "cat"], "capture-output": true, "input-data": "MTIzNDU=" } });
    assert.deepEqual(seen[1], { execute: "guest-exec-status", arguments: { pid: 42 } });
    const killed = await qgaExec(client, { path: "/bin/true", args: [], stdin: Buffer.alloc(0), timeoutMs: 5000 });
    assert.equal(killed.exitCode, 128 + 9);
  });
});
