import type { PinnedLaunch } from "./launch.ts";
import type { MemoryBacking } from "../config/launch-spec.ts";

/**
 * The manifest of a saved VM state (suspend state or snapshot): versioned independently of snapvm
 * (semver: same major loads, a newer minor or major is refused), readable by a person, and enough to
 * check before restoring that this QEMU can load the state. docs/snapshot-format.md describes it.
 */
export const STATE_FORMAT = "snapvm-state";
/** 1.1.0 added StateFile.compression; a 1.1 reader loads 1.0 states unchanged. */
export const STATE_FORMAT_VERSION = "1.1.0";
/** Manifests are small; anything larger is not ours and is refused before parsing. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

export interface StateFile {
  /** Relative to the state directory, or "../memory.ram" for the instance's own RAM file. */
  name: string;
  role: "device-state" | "memory" | "memory-stream";
  sizeBytes: number;
  allocatedBytes: number;
  /** SHA-256, hex. Absent for a RAM file a restore maps, which is checked by size only (hashing GiBs costs seconds). */
  sha256?: string;
  /** Recorded for a RAM file a restore maps; not checked (a restore compares the size). */
  mtimeMs?: number;
  /**
   * Since 1.1.0. Present exactly when this file is compressed: `name`, `sizeBytes` and
   * `allocatedBytes` then describe the compressed file, and `original` is the entry as it was
   * before, which decompressing restores byte for byte (holes included). A reader that does not
   * understand compression must not use a file that has this field.
   */
  compression?: FileCompression;
}

export interface FileCompression {
  algorithm: "zstd";
  level: number;
  original: Omit<StateFile, "role" | "compression">;
}

export interface StateManifest {
  format: typeof STATE_FORMAT;
  formatVersion: string;
  kind: "suspend" | "snapshot";
  createdAt: string;
  snapvmVersion: string;
  qemuVersion: string;
  accel: string;
  machine: string;
  cpuModel: string;
  memory: { backing: MemoryBacking; sizeBytes: number };
  /** The exact launch spec and argv the VM ran with; a restore reuses them. */
  launch: PinnedLaunch;
  files: StateFile[];
  /** How long the guest was paused while saving, in milliseconds. */
  pauseMs: number;
  /**
   * The snapshot this one was taken after, on the same instance (null for the first). A suspend state
   * written by a save or an import has null; one staged from a snapshot (restore, fork) keeps its parent.
   */
  parent: string | null;
  /** Set on snapshots. */
  snapshot?: SnapshotFacts;
  /** Applied through the guest channel after the restore (a fork's own name and MAC). */
  identity?: GuestIdentity;
}

export interface SnapshotFacts {
  tag: string;
  /** The frozen qcow2 layer (in the instance's disks/) holding the disk as it was. */
  diskLayer: string;
  /** False for a snapshot of a shut-down instance: disk only, a restore cold boots. */
  hasMemory: boolean;
  /** Taken from a running guest (true) or from a stopped/suspended instance. */
  live: boolean;
  /** How the RAM file was copied while the guest was paused. */
  memoryCopy: "reflink" | "sparse-copy" | "precopy" | "none";
  /**
   * Set while the memory is zstd-compressed (restore and fork decompress first); `sizeBytes` is the
   * total length of the compressed files. Which files are compressed: those with `compression`.
   */
  compressed?: { algorithm: "zstd"; level: number; sizeBytes: number };
}

export interface GuestIdentity {
  hostname: string;
  mac: string;
}
