import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LaunchSpec } from "../../config/launch-spec.ts";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { tinyImagePaths } from "../../paths/index.ts";
import { checkHostResources, RUN_HEADROOM_BYTES, type HostCheck } from "./host-resources.ts";
import { isHostRefusal } from "./port-refusal.ts";

const MIB = 1024 * 1024;

function scratch(): { dir: string; home: string; spec: LaunchSpec } {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-hostres-"));
  const home = join(dir, "home");
  const image = tinyImagePaths(home);
  mkdirSync(image.dir, { recursive: true });
  for (const file of [image.kernel, image.initrd, join(dir, "disk.qcow2")]) writeFileSync(file, "x");
  const spec: LaunchSpec = {
    name: "vm",
    accel: "tcg",
    cpus: 1,
    memoryBytes: 256 * MIB,
    memoryBacking: "file",
    memoryPath: join(dir, "memory.ram"),
    boot: { kind: "kernel", kernel: image.kernel, initrd: image.initrd, cmdline: "" },
    disk: join(dir, "disk.qcow2"),
    ports: [],
    mac: "52:54:00:00:00:01",
    vmgenid: "00000000-0000-0000-0000-000000000000",
    qmpSocket: join(dir, "qmp.sock"),
    guestSocket: join(dir, "guest.sock"),
    consoleSocket: join(dir, "console.sock"),
    consoleLog: join(dir, "console.log"),
  };
  return { dir, home, spec };
}

async function listen(host = "127.0.0.1"): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const plenty = (): Promise<{ bavail: number; bsize: number }> => Promise.resolve({ bavail: 1e9, bsize: 4096 });

function check(spec: LaunchSpec, home: string, extra: Partial<HostCheck> = {}): Promise<void> {
  return checkHostResources({ spec, shareMemory: true, purpose: "restore", home, statfsFn: plenty, ...extra });
}

test("free ports, present files and enough space pass", async () => {
  const { dir, home, spec } = scratch();
  try {
    const { server, port } = await listen();
    await new Promise((resolve) => server.close(resolve)); // a port that was just free
    await check({ ...spec, ports: [{ protocol: "tcp", hostAddress: "127.0.0.1", host: port, guest: 80 }] }, home);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a taken TCP port is E_PORT_IN_USE naming the port, the guest port and the holder (this process)", async () => {
  const { dir, home, spec } = scratch();
  const { server, port } = await listen("0.0.0.0");
  try {
    const busy = { ...spec, ports: [{ protocol: "tcp" as const, hostAddress: "127.0.0.1", host: port, guest: 80 }] };
    await assert.rejects(check(busy, home), (error) => {
      assert.ok(isSnapvmError(error, ErrorCode.PortInUse));
      assert.ok(isHostRefusal(error));
      assert.match(
        error.message,
        new RegExp(
          `^instance "vm" cannot start: host port 127\\.0\\.0\\.1:${port}/tcp \\(forwarded to guest port 80\\) is in use by pid ${process.pid} \\(.*node.*\\); its saved state was left as it was$`,
        ),
      );
      assert.match(error.hint ?? "", /Free the port .*snapvm start vm/);
      assert.equal(error.details["port"], port);
      assert.deepEqual(error.details["holder"], { pid: process.pid, command: (error.details["holder"] as { command: string }).command });
      return true;
    });
    // snapvm's own SSH forward is checked too, and named as such.
    const ssh = { ...spec, guestAccess: { kind: "ssh" as const, port, user: "u", keyPath: "/k" } };
    await assert.rejects(check(ssh, home, { purpose: "boot" }), /127\.0\.0\.1:\d+\/tcp \(snapvm's SSH forward\) is in use by .*; nothing was started$/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a taken UDP port is E_PORT_IN_USE too", async () => {
  const { dir, home, spec } = scratch();
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind({ address: "127.0.0.1", port: 0 }, resolve));
  try {
    const port = socket.address().port;
    await assert.rejects(check({ ...spec, ports: [{ protocol: "udp", hostAddress: "127.0.0.1", host: port, guest: 53 }] }, home), {
      code: ErrorCode.PortInUse,
      message: new RegExp(`127\\.0\\.0\\.1:${port}/udp \\(forwarded to guest port 53\\) is in use by pid ${process.pid}`),
    });
  } finally {
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing built-in kernel is E_IMAGE_MISSING; a missing disk or ISO E_LAUNCH_FILE_MISSING", async () => {
  const { dir, home, spec } = scratch();
  try {
    rmSync(tinyImagePaths(home).initrd);
    await assert.rejects(check(spec, home), (error) => {
      assert.ok(isSnapvmError(error, ErrorCode.ImageMissing));
      assert.match(error.message, /the built-in guest's initrd .*initrd\.img is missing; its saved state was left as it was/);
      assert.equal(error.details["hostResource"], "file");
      return true;
    });
    const diskBoot = { ...spec, boot: { kind: "disk" as const }, disk: join(dir, "gone.qcow2") };
    await assert.rejects(check(diskBoot, home), { code: ErrorCode.LaunchFileMissing, message: /its disk .*gone\.qcow2 is missing/ });
    const iso = { ...spec, boot: { kind: "disk" as const }, cidataIso: join(dir, "cidata.iso") };
    await assert.rejects(check(iso, home), { code: ErrorCode.LaunchFileMissing, message: /its cloud-init ISO .*cidata\.iso is missing/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a shared RAM file must be able to grow to the guest's size; a fork's private mapping and anonymous RAM need nothing", async () => {
  const { dir, home, spec } = scratch();
  try {
    const tight = (): Promise<{ bavail: number; bsize: number }> => Promise.resolve({ bavail: (200 * MIB) / 4096, bsize: 4096 });
    await assert.rejects(check(spec, home, { statfsFn: tight }), (error) => {
      assert.ok(isSnapvmError(error, ErrorCode.NoSpace));
      assert.match(
        error.message,
        /its RAM file .*memory\.ram may grow by 256 MiB \(to the guest's 256 MiB\), and .* has 200 MiB free of the 320 MiB that needs/,
      );
      assert.equal(error.details["neededBytes"], 256 * MIB + RUN_HEADROOM_BYTES);
      return true;
    });
    await check(spec, home, { statfsFn: tight, shareMemory: false });
    await check({ ...spec, memoryBacking: "anonymous" }, home, { statfsFn: tight });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
