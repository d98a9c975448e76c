import { test } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../errors/index.ts";
import { checkLoadOrder, moduleDepends, moduleName, resolveModules, TINY_MODULES } from "./modules.ts";

const FILES = [
  "kernel/drivers/virtio/virtio.ko",
  "kernel/drivers/virtio/virtio_ring.ko.xz",
  "kernel/drivers/block/virtio_blk.ko.zst",
  "kernel/drivers/net/virtio-net.ko",
  "modules.order",
  "kernel/drivers/virtio",
];

test("module names come from file names, with - read as _", () => {
  assert.equal(moduleName("kernel/fs/ext4/ext4.ko"), "ext4");
  assert.equal(moduleName("virtio-net.ko.xz"), "virtio_net");
  assert.equal(moduleName("crc32c_generic.ko.zst"), "crc32c_generic");
  assert.equal(moduleName("modules.builtin"), undefined);
  assert.equal(moduleName("ext4.ko.bz2"), undefined);
});

test("resolves wanted modules in the requested order, noting compression", () => {
  const resolved = resolveModules(["virtio_ring", "virtio", "virtio_blk", "virtio_net"], FILES, "");
  assert.deepEqual(resolved.load, [
    { name: "virtio_ring", path: "kernel/drivers/virtio/virtio_ring.ko.xz", compression: "xz" },
    { name: "virtio", path: "kernel/drivers/virtio/virtio.ko", compression: undefined },
    { name: "virtio_blk", path: "kernel/drivers/block/virtio_blk.ko.zst", compression: "zstd" },
    { name: "virtio_net", path: "kernel/drivers/net/virtio-net.ko", compression: undefined },
  ]);
  assert.deepEqual(resolved.builtin, []);
});

test("built-in modules are skipped, missing ones are all named", () => {
  const builtin = "kernel/fs/ext4/ext4.ko\nkernel/lib/crc16.ko\n";
  assert.deepEqual(resolveModules(["virtio", "ext4", "crc16"], FILES, builtin), {
    load: [{ name: "virtio", path: "kernel/drivers/virtio/virtio.ko", compression: undefined }],
    builtin: ["ext4", "crc16"],
  });
  assert.throws(
    () => resolveModules(["virtio", "jbd2", "button"], FILES, builtin),
    (error: unknown) => isSnapvmError(error, "E_IMAGE_BUILD_FAILED") && error.message === "kernel modules not found: jbd2, button",
  );
});

/** A stand-in .ko: only the .modinfo strings matter here. */
function ko(depends: string | undefined): Buffer {
  const info = ["license=GPL", ...(depends === undefined ? [] : [`depends=${depends}`]), "intree=Y"];
  return Buffer.from(`\x7fELF junk\0${info.join("\0")}\0more`, "latin1");
}

test("moduleDepends reads depends= from .modinfo", () => {
  assert.deepEqual(moduleDepends(ko("virtio_ring,virtio,net_failover")), ["virtio_ring", "virtio", "net_failover"]);
  assert.deepEqual(moduleDepends(ko("")), []);
  assert.deepEqual(moduleDepends(ko(undefined)), []);
  assert.deepEqual(moduleDepends(ko("virtio-ring")), ["virtio_ring"]);
});

test("checkLoadOrder names every module loaded before what it needs", () => {
  checkLoadOrder([
    { name: "virtio_ring", data: ko("") },
    { name: "virtio", data: ko("virtio_ring") },
  ]);
  assert.throws(
    () => {
      checkLoadOrder([
        { name: "virtio", data: ko("virtio_ring") },
        { name: "virtio_ring", data: ko("") },
        { name: "ext4", data: ko("jbd2,mbcache") },
      ]);
    },
    (error: unknown) =>
      isSnapvmError(error, "E_IMAGE_BUILD_FAILED") &&
      error.message === "kernel modules out of order: virtio needs virtio_ring; ext4 needs jbd2; ext4 needs mbcache",
  );
});

test("the tiny module list loads 6.1's dependencies (modinfo -F depends) first", () => {
  const order = (name: string): number => TINY_MODULES.indexOf(name);
  for (const [module, dependency] of [
    ["virtio", "virtio_ring"],
    ["virtio_pci", "virtio_pci_modern_dev"],
    ["virtio_pci", "virtio_pci_legacy_dev"],
    ["virtio_blk", "virtio"],
    ["virtio_console", "virtio"],
    ["net_failover", "failover"],
    ["virtio_net", "net_failover"],
    ["ext4", "jbd2"],
    ["ext4", "mbcache"],
    ["ext4", "crc16"],
    ["ext4", "crc32c_generic"],
  ] as const) {
    assert.ok(order(dependency) >= 0 && order(dependency) < order(module), `${dependency} before ${module}`);
  }
});
