/**
 * The snapvm bundle: one self-describing byte stream holding a snapshot and everything it needs on
 * another host (docs/bundle-format.md). Versioned on its own (semver), independent of snapvm's version
 * and of the state format inside it.
 *
 *   MAGIC, then records: 4 ASCII bytes of kind, a u32 big-endian body length, the body.
 *   MANI (JSON manifest) · per file: FILE (JSON) · DATA… · FEND (JSON: digest, frame table) · TRLR (JSON)
 */
export const BUNDLE_MAGIC = Buffer.from("\x89SNAPVM\n", "latin1");
export const BUNDLE_FORMAT = "snapvm-bundle";
/**
 * 1.1.0 added streamed files (BundleFile.streamed, FileEnd.sizeBytes) and Trailer.final (a live offload), and
 * digests a parallel writer and a ranged reader can use: one per frame, files and trailer over those.
 */
export const BUNDLE_FORMAT_VERSION = "1.1.0";
/** 1.0.0 hashed every byte in one sequence; a 1.1 reader does not read it (none was released). */
export const BUNDLE_FORMAT_OLDEST = "1.1.0";

export const RecordKind = {
  Manifest: "MANI",
  FileStart: "FILE",
  Data: "DATA",
  FileEnd: "FEND",
  Trailer: "TRLR",
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** kind (4) + body length (4). */
export const RECORD_HEAD_BYTES = 8;
/** Raw bytes per DATA frame: E2B's 4 MiB, each frame an independent zstd frame. */
export const FRAME_BYTES = 4 * 1024 * 1024;
/** A DATA body starts with the frame's file offset (u64) and raw length (u32). */
export const DATA_HEAD_BYTES = 12;

/** Bounds a reader enforces before allocating: a hostile stream cannot make it hold more. */
export const BUNDLE_LIMITS = {
  manifestBytes: 1024 * 1024,
  jsonRecordBytes: 16 * 1024 * 1024,
  /** A zstd frame of FRAME_BYTES is at most a little larger than its input. */
  dataRecordBytes: DATA_HEAD_BYTES + FRAME_BYTES + 64 * 1024,
  files: 256,
  fileBytes: 2 ** 40,
} as const;

/** A frame-table entry in FEND's JSON is at most this long: five numbers under 2^53, a 64-digit digest. */
const FRAME_ENTRY_BYTES = 128;

/** The largest FEND body a reader takes for a file of at most `fileBytes`: its frame table, and room for the rest. */
export function fileEndRecordBytes(fileBytes: number): number {
  return 64 * 1024 + Math.ceil(fileBytes / FRAME_BYTES) * FRAME_ENTRY_BYTES;
}

/** What a file in a bundle is, which decides where an import puts it. */
export const BUNDLE_FILE_ROLES = ["device-state", "memory", "memory-stream", "disk-layer", "kernel", "initrd", "cidata", "ssh-key", "ssh-public-key"] as const;
export type BundleFileRole = (typeof BUNDLE_FILE_ROLES)[number];

export interface BundleFile {
  /** Unique in the bundle, a plain file name: `devices.state`, `memory.ram`, `<layer id>.qcow2`, `vmlinux`… */
  name: string;
  role: BundleFileRole;
  /** Apparent length; the import makes a file of this length with holes where no frame lands. */
  sizeBytes: number;
  /** Allocated on the exporting host: what an import needs on disk, at most. */
  allocatedBytes: number;
  /** Disk layers: the layer below (its name in this bundle), null for the base. */
  backing?: string | null;
  /**
   * Since 1.1.0: the file was still being produced when the manifest was written (a live offload's
   * migration stream, the disk layer it froze). `sizeBytes` and `allocatedBytes` are then the
   * exporter's estimate, which the import's space check uses; the length is FileEnd.sizeBytes.
   */
  streamed?: boolean;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: string;
  createdAt: string;
  snapvmVersion: string;
  source: { instance: string; tag: string; host: string };
  /** Copied from the state so a reader checks compatibility without parsing it. */
  qemuVersion: string;
  accel: string;
  frameBytes: number;
  /** The instance's snapvm.yaml as it was at export. */
  config: string;
  /** The config the snapshot's VM booted with (boot/config.json), which a restore compares with snapvm.yaml. */
  bootConfig?: Record<string, unknown>;
  /** The snapshot's state manifest (docs/snapshot-format.md), paths as on the exporting host. */
  state: unknown;
  /** In the order they follow the manifest. */
  files: BundleFile[];
}

/**
 * One frame in a file's table: [file offset, raw length, bundle offset of its DATA record, the record's body
 * length, SHA-256 (hex) of that body]. The body is the offset (u64 BE), the raw length (u32 BE) and the zstd
 * frame, so a frame fetched alone (a range of the bundle) is checked against its entry before it is decoded.
 */
export type FrameEntry = [number, number, number, number, string];

/** FEND: closes one file. */
export interface FileEnd {
  name: string;
  /** SHA-256 over the file's frame digests (32 bytes each), in order. */
  sha256: string;
  dataBytes: number;
  frames: FrameEntry[];
  /** Since 1.1.0: the file's length (for a streamed file, the only place it is known). */
  sizeBytes?: number;
}

/** TRLR: commits the bundle. A stream without it is truncated, whatever came before. */
export interface Trailer {
  /**
   * SHA-256 of every byte before the TRLR record, the magic included, except the DATA bodies (which their
   * frame digests in FEND cover).
   */
  sha256: string;
  files: number;
  bytes: number;
  /** Since 1.1.0: what a live offload knows only at its end. */
  final?: TrailerFinal;
}

export interface TrailerFinal {
  /** How long the guest was paused for the switch-over; the state's pauseMs on import. */
  pauseMs: number;
}
