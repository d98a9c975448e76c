import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ErrorCode, SnapvmError } from "../../../errors/index.ts";
import type { QmpCloseInfo } from "./session.ts";
import { connectPair, makeSocketDir, type SocketDir } from "./test-support.ts";

let dir: SocketDir;
before(async () => {
  dir = await makeSocketDir();
});
after(async () => {
  await dir.remove();
});

function closedError(message: string, details: Record<string, unknown>) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SnapvmError);
    assert.equal(error.code, ErrorCode.QmpClosed);
    assert.equal(error.message, message);
    assert.equal(error.hint, "QEMU has probably exited; check its log.");
    assert.deepEqual(error.details, details);
    return true;
  };
}

void describe("QmpClient close", () => {
  void it("rejects pending calls and event waiters when QEMU goes away", async (t) => {
    const { server, client, path } = await connectPair(t, dir);
    const infos: QmpCloseInfo[] = [];
    client.onClose((info) => infos.push(info));
    const migrate = client.execute("migrate", { uri: "file:/tmp/state" });
    const query = client.execute("query-migrate");
    const shutdown = client.waitForEvent("SHUTDOWN", { timeoutMs: Number.POSITIVE_INFINITY });
    await server.nextCommand();
    await server.nextCommand();
    server.dropClient();
    await assert.rejects(migrate, closedError("QMP connection closed before command migrate returned", { socketPath: path, command: "migrate" }));
    await assert.rejects(query, closedError("QMP connection closed before command query-migrate returned", { socketPath: path, command: "query-migrate" }));
    await assert.rejects(shutdown, closedError("QMP connection closed while waiting for event SHUTDOWN", { socketPath: path, event: "SHUTDOWN" }));
    assert.deepEqual(await client.closed, { byClient: false, error: undefined });
    assert.deepEqual(infos, [{ byClient: false, error: undefined }]);
    assert.equal(client.isClosed, true);
  });

  void it("refuses new calls and waiters once closed", async (t) => {
    const { server, client, path } = await connectPair(t, dir);
    server.dropClient();
    await client.closed;
    await assert.rejects(client.execute("cont"), closedError("QMP connection closed before command cont returned", { socketPath: path, command: "cont" }));
    await assert.rejects(client.waitForEvent("RESUME"), { code: ErrorCode.QmpClosed });
    const late: QmpCloseInfo[] = [];
    client.onClose((info) => late.push(info));
    await client.closed;
    assert.deepEqual(late, [{ byClient: false, error: undefined }]);
  });

  void it("delivers a reply and an event sent right before the socket closed", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const shutdown = client.waitForEvent("SHUTDOWN");
    const quit = client.execute("quit");
    const command = await server.nextCommand();
    server.sendRaw(`${JSON.stringify({ return: {}, id: command.id })}\r\n{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}`);
    server.dropClient();
    assert.deepEqual(await quit, {});
    assert.deepEqual((await shutdown).data, { guest: false, reason: "host-qmp-quit" });
  });

  void it("close() ends the connection, rejecting what is pending; calling it twice is fine", async (t) => {
    const { server, client, path } = await connectPair(t, dir);
    const pending = client.execute("query-block");
    await server.nextCommand();
    const unsubscribed: QmpCloseInfo[] = [];
    client.onClose((info) => unsubscribed.push(info))();
    await Promise.all([client.close(), client.close()]);
    await assert.rejects(pending, closedError("QMP connection closed before command query-block returned", { socketPath: path, command: "query-block" }));
    assert.deepEqual(await client.closed, { byClient: true, error: undefined });
    assert.deepEqual(unsubscribed, []);
    await assert.rejects(client.execute("query-block"), { code: ErrorCode.QmpClosed });
  });
});
