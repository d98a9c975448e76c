/**
 * A writer for the "newc" cpio format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst). Written here rather than run
 * through cpio(1) so owners, modes and timestamps come out the same on every host and without root.
 */
export type CpioEntry =
  | { type: "dir"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; data: Buffer }
  | { type: "symlink"; path: string; target: string }
  | { type: "chardev"; path: string; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = "TRAILER!!!";

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`cpio field out of range: ${value}`);
  return value.toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

interface CpioRecord {
  ino: number;
  mode: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
  data: Buffer;
}

function record(r: CpioRecord, mtime: number): Buffer[] {
  const name = Buffer.from(`${r.name}\0`, "utf8");
  const header = Buffer.from(
    "070701" + [r.ino, r.mode, 0, 0, r.nlink, mtime, r.data.length, 0, 0, r.rdevMajor, r.rdevMinor, name.length, 0].map(hex8).join(""),
    "latin1",
  );
  // The 110-byte header plus the name is padded to 4 bytes, and so is the data.
  return [header, name, pad4(header.length + name.length), r.data, pad4(r.data.length)];
}

function toRecord(entry: CpioEntry, ino: number): CpioRecord {
  const name = entry.path.replace(/^\/+/, "");
  if (name === "" || name.split("/").includes("..")) throw new Error(`cpio: bad path ${entry.path}`);
  const base = { ino, name, nlink: 1, rdevMajor: 0, rdevMinor: 0, data: Buffer.alloc(0) };
  switch (entry.type) {
    case "dir":
      return { ...base, mode: S_IFDIR | (entry.mode & 0o7777), nlink: 2 };
    case "file":
      return { ...base, mode: S_IFREG | (entry.mode & 0o7777), data: entry.data };
    case "symlink":
      return { ...base, mode: S_IFLNK | 0o777, data: Buffer.from(entry.target, "utf8") };
    case "chardev":
      return { ...base, mode: S_IFCHR | (entry.mode & 0o7777), rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

/**
 * Encodes entries in the given order (parents must precede children). All entries are owned by root
 * and stamped with `mtime` (seconds) so the archive is reproducible.
 */
export function encodeCpio(entries: readonly CpioEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => parts.push(...record(toRecord(entry, index + 1), mtime)));
  parts.push(...record({ ino: 0, mode: 0, nlink: 1, rdevMajor: 0, rdevMinor: 0, name: TRAILER, data: Buffer.alloc(0) }, 0));
  return Buffer.concat(parts);
}
