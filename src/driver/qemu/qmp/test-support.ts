import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { QmpClient, type QmpConnectOptions } from "./client.ts";
import { FakeQmpServer, type FakeQmpServerOptions } from "./fake-qmp-server.ts";

/** Test-only: a temp directory for sockets, removed by `remove()` (call it in `after`). */
export interface SocketDir {
  /** A fresh socket path in the directory (short: unix socket paths are limited to 107 bytes). */
  next: () => string;
  remove: () => Promise<void>;
}

export async function makeSocketDir(): Promise<SocketDir> {
  const dir = await mkdtemp(join(tmpdir(), "snapvm-qmp-"));
  let count = 0;
  return {
    next: () => join(dir, `q${++count}.sock`),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface Pair {
  server: FakeQmpServer;
  client: QmpClient;
  path: string;
}

/** A fake server and a client connected to it; both are closed when the test ends. */
export async function connectPair(
  t: TestContext,
  dir: SocketDir,
  serverOptions: FakeQmpServerOptions = {},
  clientOptions: QmpConnectOptions = {},
): Promise<Pair> {
  const path = dir.next();
  const server = await FakeQmpServer.listen(path, serverOptions);
  t.after(() => server.close());
  const client = await QmpClient.connect(path, { timeoutMs: 2000, ...clientOptions });
  t.after(() => client.close());
  return { server, client, path };
}
