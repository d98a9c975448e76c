import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { relocateSockets, type InstanceSockets, type LaunchSpec } from "./launch-spec.ts";

const spec: LaunchSpec = {
  name: "web",
  accel: "tcg",
  cpus: 1,
  memoryBytes: 256 * 1024 * 1024,
  memoryBacking: "file",
  memoryPath: "/a/memory.ram",
  boot: { kind: "disk" },
  disk: "/a/disk.qcow2",
  ports: [],
  mac: "52:54:00:12:34:56",
  vmgenid: "5f2b1c3e-0000-4000-8000-000000000001",
  qmpSocket: "/a/qmp.sock",
  guestSocket: "/a/guest.sock",
  qgaSocket: "/a/qga.sock",
  consoleSocket: "/a/console.sock",
  consoleLog: "/a/console.log",
};

const moved: InstanceSockets = {
  qmpSocket: "/b/qmp.sock",
  guestSocket: "/b/guest.sock",
  qgaSocket: "/b/qga.sock",
  consoleSocket: "/b/console.sock",
  consoleLog: "/b/console.log",
};

describe("relocateSockets", () => {
  it("moves every socket, the qemu-guest-agent channel included, and nothing else", () => {
    assert.deepEqual(relocateSockets(spec, moved), { ...spec, ...moved });
  });

  it("adds no qemu-guest-agent channel to a spec pinned without one (its state loads only without)", () => {
    const old: LaunchSpec = { ...spec };
    delete old.qgaSocket;
    const relocated = relocateSockets(old, moved);
    assert.equal("qgaSocket" in relocated, false);
    assert.deepEqual(relocated, {
      ...old,
      qmpSocket: moved.qmpSocket,
      guestSocket: moved.guestSocket,
      consoleSocket: moved.consoleSocket,
      consoleLog: moved.consoleLog,
    });
  });
});
