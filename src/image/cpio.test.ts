import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeCpio } from "./cpio.ts";

interface Decoded {
  name: string;
  mode: number;
  nlink: number;
  mtime: number;
  rdev: [number, number];
  data: Buffer;
}

/** Reads newc records back the way the kernel's unpacker does (4-byte alignment after name and data). */
function decode(archive: Buffer): Decoded[] {
  const out: Decoded[] = [];
  let at = 0;
  for (;;) {
    assert.equal(archive.toString("latin1", at, at + 6), "070701", `magic at ${at}`);
    const field = (index: number): number => parseInt(archive.toString("latin1", at + 6 + index * 8, at + 14 + index * 8), 16);
    const nameSize = field(11);
    const size = field(6);
    const name = archive.toString("utf8", at + 110, at + 110 + nameSize - 1);
    assert.equal(archive[at + 110 + nameSize - 1], 0, "name is NUL-terminated");
    const dataStart = Math.ceil((at + 110 + nameSize) / 4) * 4;
    const record = {
      name,
      mode: field(1),
      nlink: field(4),
      mtime: field(5),
      rdev: [field(9), field(10)] as [number, number],
      data: archive.subarray(dataStart, dataStart + size),
    };
    at = Math.ceil((dataStart + size) / 4) * 4;
    if (name === "TRAILER!!!") break;
    out.push(record);
  }
  assert.equal(at, archive.length, "nothing after the trailer");
  return out;
}

test("encodes directories, files, symlinks and device nodes in newc", () => {
  const archive = encodeCpio(
    [
      { type: "dir", path: "/bin", mode: 0o755 },
      { type: "file", path: "bin/busybox", mode: 0o755, data: Buffer.from("abcde") },
      { type: "symlink", path: "bin/sh", target: "busybox" },
      { type: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
      { type: "dir", path: "tmp", mode: 0o1777 },
    ],
    1700000000,
  );
  assert.equal(archive.length % 4, 0);
  assert.deepEqual(decode(archive), [
    { name: "bin", mode: 0o040755, nlink: 2, mtime: 1700000000, rdev: [0, 0], data: Buffer.alloc(0) },
    { name: "bin/busybox", mode: 0o100755, nlink: 1, mtime: 1700000000, rdev: [0, 0], data: Buffer.from("abcde") },
    { name: "bin/sh", mode: 0o120777, nlink: 1, mtime: 1700000000, rdev: [0, 0], data: Buffer.from("busybox") },
    { name: "dev/console", mode: 0o020600, nlink: 1, mtime: 1700000000, rdev: [5, 1], data: Buffer.alloc(0) },
    { name: "tmp", mode: 0o041777, nlink: 2, mtime: 1700000000, rdev: [0, 0], data: Buffer.alloc(0) },
  ]);
});

test("the same entries give the same bytes", () => {
  const entries = [{ type: "file", path: "init", mode: 0o755, data: Buffer.from("#!/bin/sh\n") }] as const;
  assert.deepEqual(encodeCpio(entries), encodeCpio(entries));
  assert.deepEqual(decode(encodeCpio([])), []);
});

test("refuses paths that escape or are empty", () => {
  for (const path of ["", "/", "../etc/passwd", "a/../../b"]) {
    assert.throws(() => encodeCpio([{ type: "dir", path, mode: 0o755 }]), /^Error: cpio: bad path/);
  }
});
