import { posix } from "node:path";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import type { FileCompression } from "./decompress.ts";

/**
 * Kernel modules the tiny guest loads, in load order (each after the modules it depends on; the
 * initramfs has no modules.dep or modprobe). Debian's generic kernel builds virtio, networking and
 * ext4 as modules; `button` turns the ACPI power button into an input device and `evdev`
 * exposes it as /dev/input/event*, which acpid reads.
 */
export const TINY_MODULES: readonly string[] = [
  "virtio_ring",
  "virtio",
  "virtio_pci_legacy_dev",
  "virtio_pci_modern_dev",
  "virtio_pci",
  "virtio_blk",
  "virtio_console",
  "failover",
  "net_failover",
  "virtio_net",
  "crc16",
  "mbcache",
  "jbd2",
  "crc32c_generic",
  "ext4",
  "evdev",
  "button",
];

export interface ModuleFile {
  name: string;
  /** Path relative to lib/modules/<release>/. */
  path: string;
  compression: FileCompression | undefined;
}

export interface ModuleResolution {
  /** Modules to copy and insmod, in the requested order. */
  load: ModuleFile[];
  /** Requested modules this kernel has built in (listed in modules.builtin); nothing to load. */
  builtin: string[];
}

const MODULE_FILE = /^(.+)\.ko(\.xz|\.zst|\.gz)?$/;
const COMPRESSION_BY_EXT: Readonly<Record<string, FileCompression>> = { ".xz": "xz", ".zst": "zstd", ".gz": "gzip" };

/** Module names treat "-" and "_" alike (the kernel does). */
export function moduleName(fileName: string): string | undefined {
  const match = MODULE_FILE.exec(posix.basename(fileName));
  return match?.[1]?.replaceAll("-", "_");
}

/**
 * Maps wanted module names onto a kernel's files. Pure.
 * `files`: paths of every file under lib/modules/<release>/ (relative); `builtinList`: modules.builtin.
 * A name found nowhere is an error naming all missing modules; the first match in sorted order wins.
 */
export function resolveModules(wanted: readonly string[], files: readonly string[], builtinList: string): ModuleResolution {
  const byName = new Map<string, string>();
  for (const path of [...files].sort()) {
    const name = moduleName(path);
    if (name !== undefined && !byName.has(name)) byName.set(name, path);
  }
  const builtinNames = new Set(
    builtinList
      .split("\n")
      .map((line) => moduleName(line.trim()))
      .filter((name) => name !== undefined),
  );
  const load: ModuleFile[] = [];
  const builtin: string[] = [];
  const missing: string[] = [];
  for (const wantedName of wanted) {
    const name = wantedName.replaceAll("-", "_");
    const path = byName.get(name);
    if (path !== undefined) {
      const ext = MODULE_FILE.exec(posix.basename(path))?.[2];
      load.push({ name, path, compression: ext === undefined ? undefined : COMPRESSION_BY_EXT[ext] });
    } else if (builtinNames.has(name)) {
      builtin.push(name);
    } else {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new SnapvmError(ErrorCode.ImageBuildFailed, `kernel modules not found: ${missing.join(", ")}`, {
      hint: "The kernel package does not ship these modules; it is not the Debian generic amd64 kernel this image expects.",
      details: { missing },
    });
  }
  return { load, builtin };
}

/**
 * A module's hard dependencies, from the `depends=` string modpost puts in its .modinfo section
 * (NUL-separated key=value strings). Pure; empty when the module depends on nothing.
 */
export function moduleDepends(ko: Buffer): string[] {
  const at = ko.indexOf("\0depends=", 0, "latin1");
  if (at < 0) return [];
  const start = at + "\0depends=".length;
  const end = ko.indexOf(0, start);
  const value = ko.toString("latin1", start, end < 0 ? ko.length : end);
  return value
    .split(",")
    .filter((name) => name !== "")
    .map((name) => name.replaceAll("-", "_"));
}

/**
 * Checks that every module's dependencies are loaded before it, so a kernel update that adds a
 * dependency fails the build instead of a guest boot. Soft dependencies (crc32c for ext4) are not
 * in `depends=` and stay the list's business.
 */
export function checkLoadOrder(modules: readonly { name: string; data: Buffer }[]): void {
  const loaded = new Set<string>();
  const problems: string[] = [];
  for (const module of modules) {
    for (const dependency of moduleDepends(module.data)) {
      if (!loaded.has(dependency)) problems.push(`${module.name} needs ${dependency}`);
    }
    loaded.add(module.name);
  }
  if (problems.length > 0) {
    throw new SnapvmError(ErrorCode.ImageBuildFailed, `kernel modules out of order: ${problems.join("; ")}`, {
      hint: "This kernel's modules depend on others than TINY_MODULES lists (src/image/modules.ts); add them there in dependency order.",
      details: { problems },
    });
  }
}
