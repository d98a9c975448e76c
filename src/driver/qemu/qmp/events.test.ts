import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ErrorCode, SnapvmError } from "../../../errors/index.ts";
import type { QmpEventMessage } from "./protocol.ts";
import { connectPair, makeSocketDir, type SocketDir } from "./test-support.ts";

let dir: SocketDir;
before(async () => {
  dir = await makeSocketDir();
});
after(async () => {
  await dir.remove();
});

const at = { seconds: 1700000000, microseconds: 42 };

void describe("QmpClient events", () => {
  void it("delivers every event in order until unsubscribed, and named events to named listeners", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const all: QmpEventMessage[] = [];
    const shutdowns: string[] = [];
    const unsubscribe = client.onEvent((event) => all.push(event));
    client.onEvent("SHUTDOWN", (event) => shutdowns.push(`${String(event.data.guest)}:${event.data.reason}`));
    server.sendEvent("STOP");
    server.sendEvent("SHUTDOWN", { guest: true, reason: "guest-shutdown" });
    server.sendEvent("VSERPORT_CHANGE", { id: "console", open: true });
    await client.waitForEvent("SHUTDOWN");
    unsubscribe();
    server.sendEvent("RESUME");
    await client.waitForEvent("RESUME");
    assert.deepEqual(all, [
      { event: "STOP", data: {}, timestamp: at },
      { event: "SHUTDOWN", data: { guest: true, reason: "guest-shutdown" }, timestamp: at },
      { event: "VSERPORT_CHANGE", data: { id: "console", open: true }, timestamp: at },
    ]);
    assert.deepEqual(shutdowns, ["true:guest-shutdown"]);
  });

  void it("catches an event that arrives before the reply of the command causing it", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const stopped = client.waitForEvent("STOP");
    const stop = client.execute("stop");
    const command = await server.nextCommand();
    server.sendRaw(`{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP"}\r\n${JSON.stringify({ return: {}, id: command.id })}\r\n`);
    assert.deepEqual(await stop, {});
    assert.deepEqual(await stopped, { event: "STOP", data: {}, timestamp: { seconds: 1, microseconds: 0 } });
  });

  void it("skips events that fail the predicate", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const done = client.waitForEvent("MIGRATION", { predicate: (event) => event.data.status === "completed" });
    for (const status of ["setup", "active", "device", "completed"]) server.sendEvent("MIGRATION", { status });
    assert.deepEqual(await done, { event: "MIGRATION", data: { status: "completed" }, timestamp: at });
  });

  void it("rejects with the predicate's error when it throws, and keeps delivering to others", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const broken = client.waitForEvent("RESET", {
      predicate: () => {
        throw new Error("bad predicate");
      },
    });
    const fine = client.waitForEvent("RESET");
    server.sendEvent("RESET", { guest: true, reason: "guest-reset" });
    await assert.rejects(broken, { message: "bad predicate" });
    assert.deepEqual((await fine).data, { guest: true, reason: "guest-reset" });
  });

  void it("rejects with E_QMP_TIMEOUT when the event does not come", async (t) => {
    const { server, client, path } = await connectPair(t, dir);
    const waiting = client.waitForEvent("POWERDOWN", { timeoutMs: 25 });
    server.sendEvent("RESET", { guest: false, reason: "host-qmp-system-reset" });
    await assert.rejects(waiting, (error: unknown) => {
      assert.ok(error instanceof SnapvmError);
      assert.equal(error.code, ErrorCode.QmpTimeout);
      assert.equal(error.message, "QMP event POWERDOWN did not arrive within 25 ms");
      assert.deepEqual(error.details, { socketPath: path, event: "POWERDOWN", timeoutMs: 25 });
      return true;
    });
  });

  void it("rejects with the signal's reason on abort, also when aborted beforehand", async (t) => {
    const { client } = await connectPair(t, dir);
    const controller = new AbortController();
    const waiting = client.waitForEvent("BLOCK_JOB_COMPLETED", { signal: controller.signal, timeoutMs: Number.POSITIVE_INFINITY });
    controller.abort(new Error("instance deleted"));
    await assert.rejects(waiting, { message: "instance deleted" });
    await assert.rejects(client.waitForEvent("STOP", { signal: AbortSignal.abort() }), { name: "AbortError" });
  });

  void it("lets a waiter see only events after it started", async (t) => {
    const { server, client } = await connectPair(t, dir);
    server.sendEvent("RESUME");
    await client.waitForEvent("RESUME");
    const next = client.waitForEvent("RESUME", { timeoutMs: 25 });
    await assert.rejects(next, { code: ErrorCode.QmpTimeout });
  });
});
