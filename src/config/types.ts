/**
 * The two shapes of an instance config (habit 6: persisted shape ≠ in-memory shape).
 *
 * `ConfigFile` is what snapvm.yaml holds: every field optional, sizes as strings ("512M"),
 * timeouts in seconds, the image as written. `InstanceConfig` is what the rest of snapvm uses:
 * every field present and validated, sizes in bytes, timeouts in milliseconds, the image resolved.
 * resolve.ts converts between them; nothing else does.
 */

export const MEMORY_BACKINGS = ["file", "anonymous"] as const;
/** "file": guest RAM is a sparse file mapped share=on (lazy suspend/resume, forks); "anonymous": plain RAM. */
export type MemoryBacking = (typeof MEMORY_BACKINGS)[number];

export const ACCELS = ["auto", "kvm", "tcg"] as const;
export type Accel = (typeof ACCELS)[number];

export const PROTOCOLS = ["tcp", "udp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const COMPRESSIONS = ["none", "zstd"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** The `image` value naming the built-in guest; anything else is a path to a .qcow2 file. */
export const BUILTIN_IMAGE = "tiny";

// ---- persisted shape (snapvm.yaml) ----

export interface ConfigFile {
  cpus?: number;
  memory?: MemoryConfigFile;
  disk?: DiskConfigFile;
  /** "tiny", or a .qcow2 path: absolute, or relative to the directory of the file it was read from. */
  image?: string;
  /** Direct kernel boot of a qcow2 image (a root filesystem, no bootloader); absent: its firmware boots it. */
  boot?: BootConfigFile;
  accel?: Accel;
  saveOnStop?: boolean;
  ports?: PortForwardFile[];
  snapshot?: SnapshotConfigFile;
  timeouts?: TimeoutsConfigFile;
  ssh?: SshConfigFile;
  cloudInit?: CloudInitConfigFile;
}

/** Paths absolute, or relative to the directory of the file they were read from. */
export interface BootConfigFile {
  kernel: string;
  initrd: string;
  /** The kernel command line, e.g. "root=/dev/vda rw console=ttyS0". */
  cmdline: string;
}

export interface MemoryConfigFile {
  /** A size string, see sizes.ts. */
  size?: string;
  backing?: MemoryBacking;
}

export interface DiskConfigFile {
  size?: string;
}

export interface PortForwardFile {
  host: number;
  guest: number;
  protocol?: Protocol;
  hostAddress?: string;
}

export interface SnapshotConfigFile {
  compression?: Compression;
  level?: number;
}

/** Seconds; fractions allowed. */
export interface TimeoutsConfigFile {
  boot?: number;
  shutdown?: number;
  restore?: number;
}

export interface SshConfigFile {
  user?: string;
}

export interface CloudInitConfigFile {
  /** Extra #cloud-config text, merged into the generated user-data by the cloud-init writer. */
  userData?: string;
}

/** A ConfigFile with every default filled in (defaults.ts); still the persisted units. */
export interface CompleteConfigFile {
  cpus: number;
  memory: Required<MemoryConfigFile>;
  disk: Required<DiskConfigFile>;
  image: string;
  /** No default: absent means the image's own bootloader. */
  boot?: BootConfigFile;
  accel: Accel;
  saveOnStop: boolean;
  ports: PortForward[];
  snapshot: Required<SnapshotConfigFile>;
  timeouts: Required<TimeoutsConfigFile>;
  ssh: Required<SshConfigFile>;
  cloudInit: CloudInitConfigFile;
}

// ---- in-memory shape ----

export interface InstanceConfig {
  cpus: number;
  memory: { sizeBytes: number; backing: MemoryBacking };
  disk: { sizeBytes: number };
  image: ImageSource;
  /** Direct kernel boot of a qcow2 image; paths absolute. */
  boot?: BootConfigFile;
  accel: Accel;
  saveOnStop: boolean;
  /** In file order; host ports are unique per protocol. */
  ports: PortForward[];
  snapshot: { compression: Compression; level: number };
  /** Whole milliseconds, at least 1. */
  timeouts: { bootMs: number; shutdownMs: number; restoreMs: number };
  ssh: { user: string };
  cloudInit: { userData?: string };
}

export type ImageSource = { kind: "tiny" } | { kind: "qcow2"; /** Absolute. */ path: string };

export interface PortForward {
  host: number;
  guest: number;
  protocol: Protocol;
  hostAddress: string;
}
