import type { CpioEntry } from "./cpio.ts";

/** A file of the repository's guest/ folder and where it goes in the initramfs. */
export interface GuestFileSpec {
  source: string;
  path: string;
  mode: number;
}

/** guest/ files copied into the image. guest/README.md documents each one. */
export const GUEST_FILES: readonly GuestFileSpec[] = [
  { source: "init", path: "init", mode: 0o755 },
  { source: "snapvm-guest-agent", path: "bin/snapvm-guest-agent", mode: 0o755 },
  { source: "udhcpc.script", path: "etc/udhcpc.script", mode: 0o755 },
  { source: "acpi-power-button", path: "etc/acpi/PWRF/00000080", mode: 0o755 },
  { source: "profile", path: "etc/profile", mode: 0o644 },
  { source: "passwd", path: "etc/passwd", mode: 0o644 },
  { source: "group", path: "etc/group", mode: 0o644 },
  { source: "hosts", path: "etc/hosts", mode: 0o644 },
];

/** Read by guest/init: one module name per line, in load order. */
export const MODULE_ORDER_FILE = "lib/modules/load-order";

export interface InitramfsContents {
  busybox: Buffer;
  /** Output of `busybox --list`, one applet name per line. */
  appletList: string;
  /** Uncompressed .ko files in load order. */
  modules: readonly { name: string; data: Buffer }[];
  /** Contents of GUEST_FILES by `source`. */
  guestFiles: ReadonlyMap<string, Buffer>;
}

const DIRS: readonly (readonly [string, number])[] = [
  ["bin", 0o755],
  ["dev", 0o755],
  ["etc", 0o755],
  ["etc/acpi", 0o755],
  ["etc/acpi/PWRF", 0o755],
  ["lib", 0o755],
  ["lib/modules", 0o755],
  ["mnt", 0o755],
  ["mnt/data", 0o755],
  ["proc", 0o555],
  ["root", 0o700],
  ["run", 0o755],
  ["sys", 0o555],
  ["tmp", 0o1777],
  ["usr", 0o755],
];

/**
 * Applet names to link to /bin/busybox. "busybox" itself is skipped: a busybox→busybox link would
 * replace the binary with a loop (ELOOP at exec). Names that are not plain file names are dropped.
 */
export function appletNames(appletList: string): string[] {
  const names = new Set<string>();
  for (const line of appletList.split("\n")) {
    const name = line.trim();
    if (name !== "" && name !== "busybox" && !name.includes("/") && name !== "." && name !== "..") names.add(name);
  }
  return [...names].sort();
}

/**
 * Everything in the initramfs, parents before children. Pure. Layout: one /bin holding busybox, its
 * applet links and the guest agent; /sbin, /usr/bin and /usr/sbin are links to it; modules flat in
 * /lib/modules/NAME.ko. /dev/console exists so PID 1 has a console before devtmpfs is mounted.
 */
export function initramfsEntries(contents: InitramfsContents): CpioEntry[] {
  const entries: CpioEntry[] = DIRS.map(([path, mode]) => ({ type: "dir", path, mode }));
  entries.push(
    { type: "symlink", path: "sbin", target: "bin" },
    { type: "symlink", path: "usr/bin", target: "../bin" },
    { type: "symlink", path: "usr/sbin", target: "../bin" },
    { type: "symlink", path: "etc/mtab", target: "/proc/mounts" },
    { type: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
    { type: "file", path: "bin/busybox", mode: 0o755, data: contents.busybox },
  );
  const guestPaths = new Set(GUEST_FILES.map((spec) => spec.path));
  for (const name of appletNames(contents.appletList)) {
    if (!guestPaths.has(`bin/${name}`)) entries.push({ type: "symlink", path: `bin/${name}`, target: "busybox" });
  }
  for (const spec of GUEST_FILES) {
    const data = contents.guestFiles.get(spec.source);
    if (data === undefined) throw new Error(`initramfs: guest file ${spec.source} was not provided`);
    entries.push({ type: "file", path: spec.path, mode: spec.mode, data });
  }
  for (const module of contents.modules) {
    entries.push({ type: "file", path: `lib/modules/${module.name}.ko`, mode: 0o644, data: module.data });
  }
  const order = contents.modules.map((module) => `${module.name}\n`).join("");
  entries.push({ type: "file", path: MODULE_ORDER_FILE, mode: 0o644, data: Buffer.from(order) });
  return entries;
}
