import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ErrorCode, SnapvmError } from "../../../errors/index.ts";
import type { QmpStrayReason } from "./protocol.ts";
import { connectPair, makeSocketDir, type SocketDir } from "./test-support.ts";

let dir: SocketDir;
before(async () => {
  dir = await makeSocketDir();
});
after(async () => {
  await dir.remove();
});

void describe("QmpClient commands", () => {
  void it("negotiates capabilities and keeps the version from the greeting", async (t) => {
    const { server, client } = await connectPair(t, dir);
    assert.deepEqual(client.qemuVersion, { major: 10, minor: 0, micro: 2, package: "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1" });
    assert.deepEqual(server.received, [{ execute: "qmp_capabilities", arguments: {}, id: 1 }]);
  });

  void it("sends arguments only when given and returns the reply", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const status = client.execute("query-status");
    const command = await server.nextCommand();
    assert.deepEqual(command, { execute: "query-status", id: 2 });
    server.reply(command, { running: true, status: "running" });
    assert.deepEqual(await status, { running: true, status: "running" });

    const hmp = client.execute("human-monitor-command", { "command-line": "info version" });
    const hmpCommand = await server.nextCommand();
    assert.deepEqual(hmpCommand.arguments, { "command-line": "info version" });
    server.reply(hmpCommand, "10.0.2\r\n");
    assert.equal(await hmp, "10.0.2\r\n");
  });

  void it("matches replies that arrive out of order by id", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const calls = [client.execute("query-kvm"), client.execute("query-status"), client.execute("query-vm-generation-id")];
    const commands = [await server.nextCommand(), await server.nextCommand(), await server.nextCommand()];
    assert.deepEqual(
      commands.map((c) => c.execute),
      ["query-kvm", "query-status", "query-vm-generation-id"],
    );
    const [kvm, status, guid] = commands;
    assert.ok(kvm !== undefined && status !== undefined && guid !== undefined);
    server.reply(guid, { guid: "324e6eaf-d2d1-4b3f-9a0f-4ce8e1a00c6f" });
    server.reply(kvm, { enabled: false, present: true });
    server.reply(status, { running: false, status: "paused" });
    assert.deepEqual(await Promise.all(calls), [
      { enabled: false, present: true },
      { running: false, status: "paused" },
      { guid: "324e6eaf-d2d1-4b3f-9a0f-4ce8e1a00c6f" },
    ]);
  });

  void it("rejects with E_QMP carrying QEMU's class and desc", async (t) => {
    const { server, client, path } = await connectPair(t, dir);
    const call = client.execute("migrate", { uri: "x" });
    server.replyError(await server.nextCommand(), "GenericError", "unknown migration protocol: x");
    await assert.rejects(call, (error: unknown) => {
      assert.ok(error instanceof SnapvmError);
      assert.equal(error.code, ErrorCode.QmpError);
      assert.equal(error.message, "QMP command migrate failed: unknown migration protocol: x");
      assert.deepEqual(error.details, { socketPath: path, command: "migrate", class: "GenericError", desc: "unknown migration protocol: x" });
      return true;
    });
  });

  void it("times out one call without disturbing the others, and reports the late reply", async (t) => {
    const strays: [string, QmpStrayReason][] = [];
    const { server, client, path } = await connectPair(t, dir, {}, { onStray: (line, reason) => strays.push([line, reason]) });
    const slow = client.execute("query-migrate", undefined, { timeoutMs: 30 });
    const fast = client.execute("query-status");
    const slowCommand = await server.nextCommand();
    const fastCommand = await server.nextCommand();
    await assert.rejects(slow, (error: unknown) => {
      assert.ok(error instanceof SnapvmError);
      assert.equal(error.code, ErrorCode.QmpTimeout);
      assert.equal(error.message, "QMP command query-migrate timed out after 30 ms");
      assert.deepEqual(error.details, { socketPath: path, command: "query-migrate", timeoutMs: 30 });
      return true;
    });
    server.reply(slowCommand, {});
    server.reply(fastCommand, { running: true, status: "running" });
    assert.deepEqual(await fast, { running: true, status: "running" });
    assert.deepEqual(strays, [[`{"return":{},"id":${String(slowCommand.id)}}`, "unknown-id"]]);
  });

  void it("uses commandTimeoutMs as the default timeout", async (t) => {
    const { server, client } = await connectPair(t, dir, {}, { commandTimeoutMs: 20 });
    const call = client.execute("stop");
    await server.nextCommand();
    await assert.rejects(call, { code: ErrorCode.QmpTimeout, message: "QMP command stop timed out after 20 ms" });
  });

  void it("refuses a negative timeout before sending anything", async (t) => {
    const { server, client } = await connectPair(t, dir);
    await assert.rejects(client.execute("cont", {}, { timeoutMs: -1 }), {
      name: "RangeError",
      message: "timeout must be a non-negative number of ms, got -1",
    });
    assert.equal(server.received.length, 1);
  });

  void it("reads split and coalesced frames", async (t) => {
    const strays: [string, QmpStrayReason][] = [];
    const { server, client } = await connectPair(t, dir, {}, { onStray: (line, reason) => strays.push([line, reason]) });
    const first = client.execute("query-kvm");
    const second = client.execute("query-status");
    const a = await server.nextCommand();
    const b = await server.nextCommand();
    const stop = client.waitForEvent("STOP");
    const text =
      `${JSON.stringify({ return: { enabled: true, present: true }, id: a.id })}\r\nnot json\r\n` +
      `{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n${JSON.stringify({ return: { running: false, status: "paused" }, id: b.id })}\r\n`;
    const bytes = Buffer.from(text);
    for (let offset = 0; offset < bytes.length; offset += 7) {
      server.sendRaw(bytes.subarray(offset, offset + 7));
      await new Promise(setImmediate); // so the client mostly reads the pieces one by one
    }
    assert.deepEqual(await first, { enabled: true, present: true });
    assert.deepEqual(await second, { running: false, status: "paused" });
    assert.deepEqual(await stop, { event: "STOP", data: {}, timestamp: { seconds: 1, microseconds: 2 } });
    assert.deepEqual(strays, [["not json", "invalid-json"]]);
  });
});
