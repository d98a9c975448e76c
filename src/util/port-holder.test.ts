import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { findPortHolder, parseProcNet, socketInode, TCP_LISTEN } from "./port-holder.ts";

const SAMPLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D3C2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
   2: garbage
`;

test("parseProcNet reads local ports, states and inodes and skips what does not parse", () => {
  assert.deepEqual(parseProcNet(SAMPLE), [
    { localPort: 8080, state: TCP_LISTEN, inode: 123456 },
    { localPort: 0xd3c2, state: 1, inode: 0 },
  ]);
  assert.deepEqual(parseProcNet(""), []);
});

test("socketInode reads a /proc/PID/fd link to a socket, and nothing else", () => {
  assert.equal(socketInode("socket:[98765]"), 98765);
  assert.equal(socketInode("/dev/null"), undefined);
  assert.equal(socketInode("pipe:[12]"), undefined);
});

test("findPortHolder names the process listening on a TCP port (this one), and nothing for a free port", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const holder = await findPortHolder("tcp", port);
    assert.equal(holder?.pid, process.pid);
    assert.match(holder.command, /node/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.equal(await findPortHolder("tcp", port), undefined);
});
