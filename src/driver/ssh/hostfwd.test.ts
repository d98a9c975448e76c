import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import type { LaunchSpec } from "../../config/launch-spec.ts";
import { guestAccessOf } from "../../config/launch-spec.ts";
import { buildQemuArgv } from "../qemu/argv.ts";
import { pickFreePort } from "./free-port.ts";

const spec: LaunchSpec = {
  name: "c",
  accel: "tcg",
  cpus: 1,
  memoryBytes: 256 * 1024 * 1024,
  memoryBacking: "file",
  memoryPath: "/i/memory.ram",
  boot: { kind: "disk" },
  disk: "/i/disk.qcow2",
  cidataIso: "/i/boot/cidata.iso",
  ports: [{ protocol: "tcp", hostAddress: "0.0.0.0", host: 8080, guest: 80 }],
  mac: "52:54:00:00:00:01",
  vmgenid: "00000000-0000-4000-8000-000000000000",
  qmpSocket: "/i/qmp.sock",
  guestSocket: "/i/guest.sock",
  consoleSocket: "/i/console.sock",
  consoleLog: "/i/console.log",
};

function netdev(argv: string[]): string | undefined {
  return argv[argv.indexOf("-netdev") + 1];
}

describe("the SSH forward in QEMU's argv", () => {
  it("forwards the pinned loopback port to the guest's port 22, after the user's forwards", () => {
    const argv = buildQemuArgv({ ...spec, guestAccess: { kind: "ssh", port: 40022, user: "debian", keyPath: "/i/ssh/id_ed25519" } });
    assert.equal(netdev(argv), "user,id=net0,hostfwd=tcp:0.0.0.0:8080-:80,hostfwd=tcp:127.0.0.1:40022-:22");
  });

  it("adds nothing for the agent, or for a spec pinned before guestAccess existed", () => {
    assert.equal(netdev(buildQemuArgv({ ...spec, guestAccess: { kind: "agent" } })), "user,id=net0,hostfwd=tcp:0.0.0.0:8080-:80");
    assert.deepEqual(buildQemuArgv(spec), buildQemuArgv({ ...spec, guestAccess: { kind: "agent" } }));
    assert.deepEqual(guestAccessOf(JSON.parse(JSON.stringify(spec)) as LaunchSpec), { kind: "agent" });
  });
});

describe("pickFreePort", () => {
  it("returns a loopback port that can be bound", async () => {
    const port = await pickFreePort();
    assert.ok(port > 0 && port < 65536);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });
});
