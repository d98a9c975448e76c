import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it, type TestContext } from "node:test";
import { ErrorCode, SnapvmError } from "../../../errors/index.ts";
import { QmpClient } from "./client.ts";
import { FakeQmpServer, QEMU_10_GREETING, type FakeQmpServerOptions } from "./fake-qmp-server.ts";
import { makeSocketDir, type SocketDir } from "./test-support.ts";

let dir: SocketDir;
before(async () => {
  dir = await makeSocketDir();
});
after(async () => {
  await dir.remove();
});

async function listen(t: TestContext, path: string, options: FakeQmpServerOptions = {}): Promise<FakeQmpServer> {
  const server = await FakeQmpServer.listen(path, options);
  t.after(() => server.close());
  return server;
}

function snapvmError(code: string, message: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SnapvmError);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    return true;
  };
}

void describe("QmpClient.connect", () => {
  void it("waits for a socket that appears late", async (t) => {
    const path = dir.next();
    const connecting = QmpClient.connect(path, { waitForSocket: true, timeoutMs: 2000 });
    await sleep(80);
    await listen(t, path);
    const client = await connecting;
    t.after(() => client.close());
    assert.equal(client.qemuVersion.major, 10);
  });

  void it("retries ECONNREFUSED while nobody listens on the path yet", async (t) => {
    const path = dir.next();
    await writeFile(path, ""); // connect(2) to a file that is not a listening socket fails with ECONNREFUSED
    await assert.rejects(QmpClient.connect(path), snapvmError(ErrorCode.QmpClosed, `cannot connect to QMP socket ${path} (ECONNREFUSED)`));
    const connecting = QmpClient.connect(path, { waitForSocket: true, timeoutMs: 2000, retryIntervalMs: 5 });
    await sleep(60);
    await rm(path);
    await listen(t, path);
    const client = await connecting;
    t.after(() => client.close());
    assert.equal(client.isClosed, false);
  });

  void it("gives up waiting for the socket after timeoutMs", async () => {
    const path = dir.next();
    const started = performance.now();
    await assert.rejects(
      QmpClient.connect(path, { waitForSocket: true, timeoutMs: 100 }),
      snapvmError(ErrorCode.QmpTimeout, `QMP socket ${path} did not accept a connection within 100 ms (last error: ENOENT)`),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95 && elapsed < 1000, `elapsed ${elapsed} ms`);
  });

  void it("fails at once without waitForSocket", async () => {
    const path = dir.next();
    await assert.rejects(QmpClient.connect(path), snapvmError(ErrorCode.QmpClosed, `cannot connect to QMP socket ${path} (ENOENT)`));
  });

  void it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const connecting = QmpClient.connect(dir.next(), { waitForSocket: true, signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 30);
    await assert.rejects(connecting, { name: "AbortError" });
  });

  void it("times out when no greeting comes, or qmp_capabilities is not answered", async (t) => {
    const silent = dir.next();
    await listen(t, silent, { greeting: null });
    await assert.rejects(
      QmpClient.connect(silent, { timeoutMs: 100 }),
      snapvmError(ErrorCode.QmpTimeout, `QMP handshake on socket ${silent} did not finish within 100 ms`),
    );
    const stuck = dir.next();
    await listen(t, stuck, { answerCapabilities: false });
    await assert.rejects(
      QmpClient.connect(stuck, { timeoutMs: 100 }),
      snapvmError(ErrorCode.QmpTimeout, `QMP handshake on socket ${stuck} did not finish within 100 ms`),
    );
  });

  void it("refuses a socket that does not greet like QMP", async (t) => {
    const path = dir.next();
    await listen(t, path, { greeting: "QEMU 10.0.2 monitor - type 'help' for more information" });
    await assert.rejects(QmpClient.connect(path), (error: unknown) => {
      assert.ok(error instanceof SnapvmError);
      assert.equal(error.code, ErrorCode.QmpError);
      assert.equal(error.message, `QMP socket ${path} did not start with a QMP greeting`);
      assert.deepEqual(error.details, { socketPath: path, line: "QEMU 10.0.2 monitor - type 'help' for more information" });
      return true;
    });
  });

  void it("fails when the socket closes before the greeting", async (t) => {
    const path = dir.next();
    const server = await listen(t, path, { greeting: null });
    const connecting = QmpClient.connect(path);
    await server.connected();
    server.dropClient();
    await assert.rejects(connecting, snapvmError(ErrorCode.QmpClosed, `QMP socket ${path} closed before sending a greeting`));
  });

  void it("fails when qmp_capabilities is refused", async (t) => {
    const path = dir.next();
    const server = await listen(t, path, { answerCapabilities: false });
    const connecting = QmpClient.connect(path);
    server.replyError(await server.nextCommand(), "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
    await assert.rejects(
      connecting,
      snapvmError(ErrorCode.QmpError, "QMP command qmp_capabilities failed: Capabilities negotiation is already complete, command ignored"),
    );
  });

  void it("reads a greeting that arrives in pieces", async (t) => {
    const path = dir.next();
    const server = await listen(t, path, { greeting: null });
    const connecting = QmpClient.connect(path);
    await server.connected();
    for (const piece of [QEMU_10_GREETING.slice(0, 10), QEMU_10_GREETING.slice(10, 60), `${QEMU_10_GREETING.slice(60)}\r`, "\n"]) {
      server.sendRaw(piece);
      await sleep(5);
    }
    const client = await connecting;
    t.after(() => client.close());
    assert.deepEqual(client.qemuVersion, { major: 10, minor: 0, micro: 2, package: "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1" });
  });
});
