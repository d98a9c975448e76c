import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { defaultConfigFile } from "./defaults.ts";
import { resolveConfig, toConfigFile } from "./resolve.ts";
import { GiB, MiB } from "./sizes.ts";
import { ACCELS, COMPRESSIONS, MEMORY_BACKINGS, PROTOCOLS, type InstanceConfig, type PortForward } from "./types.ts";
import { seededRandom } from "../util/seeded-random.ts";

function randomConfig(next: () => number): InstanceConfig {
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const ports: PortForward[] = [];
  const used = new Set<string>();
  for (let i = int(0, 4); i > 0; i--) {
    const port: PortForward = { host: int(1, 65535), guest: int(1, 65535), protocol: pick(PROTOCOLS), hostAddress: pick(["127.0.0.1", "0.0.0.0", "10.1.2.3"]) };
    if (used.has(`${port.host}/${port.protocol}`)) continue;
    used.add(`${port.host}/${port.protocol}`);
    ports.push(port);
  }
  const image = pick([{ kind: "tiny" } as const, { kind: "qcow2", path: "/var/lib/images/debian-12.qcow2" } as const]);
  const userData = pick([undefined, "#cloud-config\npackages: [git]\n", "", "runcmd:\n  - echo 'hi: there'\n"]);
  return {
    cpus: int(1, 64),
    memory: { sizeBytes: int(64, 1024 * 1024) * MiB, backing: pick(MEMORY_BACKINGS) },
    disk: { sizeBytes: int(16, 64 * 1024 * 1024) * MiB },
    image,
    ...(image.kind === "qcow2" && next() < 0.5 ? { boot: { kernel: "/boot/vmlinux", initrd: "/boot/initrd.img", cmdline: "root=/dev/vda rw" } } : {}),
    accel: pick(ACCELS),
    saveOnStop: next() < 0.5,
    ports,
    snapshot: { compression: pick(COMPRESSIONS), level: int(1, 19) },
    timeouts: { bootMs: int(1, 3_600_000), shutdownMs: int(1, 3_600_000), restoreMs: int(1, 3_600_000) },
    ssh: { user: pick(["debian", "ubuntu", "ec2-user", "_x"]) },
    cloudInit: userData === undefined ? {} : { userData },
  };
}

describe("resolveConfig", () => {
  it("fills every default", () => {
    assert.deepEqual(resolveConfig({}), {
      cpus: 1,
      memory: { sizeBytes: 512 * MiB, backing: "file" },
      disk: { sizeBytes: 2 * GiB },
      image: { kind: "tiny" },
      accel: "auto",
      saveOnStop: true,
      ports: [],
      snapshot: { compression: "none", level: 3 },
      timeouts: { bootMs: 60_000, shutdownMs: 30_000, restoreMs: 20_000 },
      ssh: { user: "debian" },
      cloudInit: {},
    });
  });

  it("gives a qcow2 (cloud) image a boot timeout for a distro under TCG when none is set", () => {
    assert.equal(resolveConfig({ image: "/i/debian-12.qcow2" }).timeouts.bootMs, 300_000);
    assert.equal(resolveConfig({ image: "/i/debian-12.qcow2", timeouts: { boot: 45 } }).timeouts.bootMs, 45_000);
    assert.equal(resolveConfig({ image: "tiny" }).timeouts.bootMs, 60_000);
  });

  it("resolves direct kernel boot paths like the image's, and refuses relative ones without a directory", () => {
    const boot = { kernel: "vmlinux", initrd: "/b/initrd.img", cmdline: "root=/dev/vda rw console=ttyS0" };
    assert.deepEqual(resolveConfig({ image: "/i/root.qcow2", boot }, { baseDir: "/i" }).boot, { ...boot, kernel: "/i/vmlinux" });
    assert.equal(resolveConfig({ image: "/i/root.qcow2" }).boot, undefined);
    assert.throws(
      () => resolveConfig({ image: "/i/root.qcow2", boot }, { sourceName: "command line" }),
      (error) =>
        isSnapvmError(error, ErrorCode.InvalidConfig) &&
        error.message === 'invalid config command line (1 problem):\ncommand line: boot.kernel: "vmlinux" is a relative path here; give an absolute path',
    );
  });

  it("converts units and fills port defaults", () => {
    const config = resolveConfig({
      memory: { size: "2GiB" },
      disk: { size: "10240M" },
      timeouts: { boot: 1.5, restore: 0.0001 },
      ports: [
        { host: 2222, guest: 22 },
        { host: 53, guest: 53, protocol: "udp", hostAddress: "0.0.0.0" },
      ],
    });
    assert.equal(config.memory.sizeBytes, 2 * GiB);
    assert.equal(config.disk.sizeBytes, 10 * GiB);
    assert.deepEqual(config.timeouts, { bootMs: 1500, shutdownMs: 30_000, restoreMs: 1 });
    assert.deepEqual(config.ports, [
      { host: 2222, guest: 22, protocol: "tcp", hostAddress: "127.0.0.1" },
      { host: 53, guest: 53, protocol: "udp", hostAddress: "0.0.0.0" },
    ]);
  });

  it("resolves the image: tiny, absolute, or relative to baseDir", () => {
    assert.deepEqual(resolveConfig({ image: "tiny" }).image, { kind: "tiny" });
    assert.deepEqual(resolveConfig({ image: "/a/../b/x.qcow2" }).image, { kind: "qcow2", path: "/b/x.qcow2" });
    assert.deepEqual(resolveConfig({ image: "x.qcow2" }, { baseDir: "/i/dev" }).image, { kind: "qcow2", path: "/i/dev/x.qcow2" });
    assert.throws(
      () => resolveConfig({ image: "x.qcow2" }, { sourceName: "command line" }),
      (error) =>
        isSnapvmError(error, ErrorCode.InvalidConfig) &&
        error.message === 'invalid config command line (1 problem):\ncommand line: image: "x.qcow2" is a relative path here; give an absolute path',
    );
  });

  it("validates configs built in code, listing every problem by path", () => {
    assert.throws(
      () =>
        resolveConfig(
          {
            cpus: 0,
            memory: { size: "1G", backing: "file" },
            ports: [
              { host: 80, guest: 80 },
              { host: 80, guest: 81 },
            ],
          },
          { sourceName: "flags" },
        ),
      (error) => {
        assert.ok(isSnapvmError(error, ErrorCode.InvalidConfig));
        assert.equal(
          error.message,
          [
            "invalid config flags (2 problems):",
            "flags: cpus: must be at least 1 (got 0)",
            "flags: ports[1].host: host port 80/tcp is already forwarded by ports[0]",
          ].join("\n"),
        );
        assert.deepEqual(error.details["problems"], [
          { file: "flags", path: "cpus", message: "must be at least 1 (got 0)" },
          { file: "flags", path: "ports[1].host", message: "host port 80/tcp is already forwarded by ports[0]" },
        ]);
        return true;
      },
    );
  });

  it("does not share objects with its input", () => {
    const file = { ports: [{ host: 1, guest: 2 }], cloudInit: { userData: "x" } };
    const config = resolveConfig(file);
    config.ports.push({ host: 3, guest: 4, protocol: "tcp", hostAddress: "127.0.0.1" });
    assert.equal(file.ports.length, 1);
  });
});

describe("toConfigFile", () => {
  it("writes every field in the persisted units, sizes in the largest exact unit", () => {
    assert.deepEqual(toConfigFile(resolveConfig({})), defaultConfigFile());
    const file = toConfigFile(resolveConfig({ memory: { size: "536870912" }, disk: { size: "1048576K" }, timeouts: { boot: 2.5 } }));
    assert.equal(file.memory.size, "512M");
    assert.equal(file.disk.size, "1G");
    assert.equal(file.timeouts.boot, 2.5);
  });

  it("round-trips: resolveConfig(toConfigFile(c)) equals c", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const config = randomConfig(seededRandom(seed));
      assert.deepEqual(resolveConfig(toConfigFile(config)), config, `seed ${seed}`);
    }
  });
});
