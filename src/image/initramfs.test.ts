import { test } from "node:test";
import assert from "node:assert/strict";
import { posix } from "node:path";
import type { CpioEntry } from "./cpio.ts";
import { appletNames, GUEST_FILES, initramfsEntries, MODULE_ORDER_FILE, type InitramfsContents } from "./initramfs.ts";

function contents(overrides: Partial<InitramfsContents> = {}): InitramfsContents {
  return {
    busybox: Buffer.from("BUSYBOX"),
    appletList: "[\n[[\nash\nbusybox\nsh\nmount\ninit\n",
    modules: [
      { name: "virtio_ring", data: Buffer.from("r") },
      { name: "virtio", data: Buffer.from("v") },
    ],
    guestFiles: new Map(GUEST_FILES.map((spec) => [spec.source, Buffer.from(`#${spec.source}`)])),
    ...overrides,
  };
}

function byPath(entries: CpioEntry[]): Map<string, CpioEntry> {
  return new Map(entries.map((entry) => [entry.path, entry]));
}

test("applet names skip busybox itself, blanks and anything path-like", () => {
  assert.deepEqual(appletNames("sh\nbusybox\n\n  ls  \nsh\n../x\n.\n"), ["ls", "sh"]);
});

test("busybox gets one symlink per applet, never one to itself", () => {
  const entries = byPath(initramfsEntries(contents()));
  assert.deepEqual(entries.get("bin/busybox"), { type: "file", path: "bin/busybox", mode: 0o755, data: Buffer.from("BUSYBOX") });
  for (const applet of ["[", "[[", "ash", "sh", "mount", "init"]) {
    assert.deepEqual(entries.get(`bin/${applet}`), { type: "symlink", path: `bin/${applet}`, target: "busybox" });
  }
  const links = [...entries.values()].filter((entry) => entry.type === "symlink" && entry.target === "busybox");
  assert.equal(links.length, 6);
});

test("modules go flat into /lib/modules with the load order beside them", () => {
  const entries = byPath(initramfsEntries(contents()));
  assert.deepEqual(entries.get("lib/modules/virtio.ko"), { type: "file", path: "lib/modules/virtio.ko", mode: 0o644, data: Buffer.from("v") });
  const order = entries.get(MODULE_ORDER_FILE);
  assert.equal(order?.type === "file" ? order.data.toString() : undefined, "virtio_ring\nvirtio\n");
});

test("guest files land where init expects them, executable where they run", () => {
  const entries = byPath(initramfsEntries(contents()));
  const expected: [string, number][] = [
    ["init", 0o755],
    ["bin/snapvm-guest-agent", 0o755],
    ["etc/udhcpc.script", 0o755],
    ["etc/acpi/PWRF/00000080", 0o755],
    ["etc/profile", 0o644],
  ];
  for (const [path, mode] of expected) {
    const entry = entries.get(path);
    assert.ok(entry?.type === "file", path);
    assert.equal(entry.mode, mode, path);
  }
  assert.throws(() => initramfsEntries(contents({ guestFiles: new Map() })), /guest file init was not provided/);
});

test("every entry's parent directory comes before it and no path repeats", () => {
  const dirs = new Set<string>(["."]);
  const paths = new Set<string>();
  for (const entry of initramfsEntries(contents())) {
    assert.ok(dirs.has(posix.dirname(entry.path)), `parent of ${entry.path}`);
    assert.ok(!paths.has(entry.path), `duplicate ${entry.path}`);
    paths.add(entry.path);
    if (entry.type === "dir") dirs.add(entry.path);
  }
  const entries = byPath(initramfsEntries(contents()));
  for (const dir of ["proc", "sys", "dev", "tmp", "run", "mnt/data", "root", "etc"]) assert.equal(entries.get(dir)?.type, "dir", dir);
  assert.deepEqual(entries.get("dev/console"), { type: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 });
});
