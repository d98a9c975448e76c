import { compressedName, isPartialName } from "../paths/index.ts";
import { STATE_FORMAT_VERSION, type StateFile, type StateManifest } from "./manifest.ts";

/**
 * The manifest side of compression, pure: which files are compressed, what they are called, and the
 * two manifest flips. compress.ts does the file work around them.
 */

/**
 * Memory files stored in the directory itself. The device state (under 1 MiB) is left alone, and so
 * is a RAM file named outside the directory ("../memory.ram" of a suspend state, a fork's template):
 * something else may be mapping it.
 */
export function isCompressible(file: StateFile): boolean {
  return file.compression === undefined && (file.role === "memory" || file.role === "memory-stream") && !file.name.includes("/");
}

export function compressedFiles(manifest: StateManifest): StateFile[] {
  return manifest.files.filter((f) => f.compression !== undefined);
}

/** Bytes the decompressed files will allocate (their holes stay holes). */
export function decompressedAllocation(manifest: StateManifest): number {
  return compressedFiles(manifest).reduce((sum, f) => sum + (f.compression?.original.allocatedBytes ?? 0), 0);
}

/** The entry for `original` once compressed into a file of the given sizes. */
export function compressedEntry(original: StateFile, level: number, sizes: { apparentBytes: number; allocatedBytes: number }): StateFile {
  const { role, ...rest } = original;
  return {
    name: compressedName(original.name),
    role,
    sizeBytes: sizes.apparentBytes,
    allocatedBytes: sizes.allocatedBytes,
    compression: { algorithm: "zstd", level, original: rest },
  };
}

/** The manifest once `files` (some of them compressed entries) are in place. */
export function withCompressedFiles(manifest: StateManifest, files: StateFile[], level: number): StateManifest {
  const sizeBytes = files.reduce((sum, f) => sum + (f.compression === undefined ? 0 : f.sizeBytes), 0);
  return {
    ...manifest,
    formatVersion: STATE_FORMAT_VERSION,
    files,
    ...(manifest.snapshot === undefined ? {} : { snapshot: { ...manifest.snapshot, compressed: { algorithm: "zstd", level, sizeBytes } } }),
  };
}

/** The manifest once every compressed file is back in its original form. */
export function withoutCompression(manifest: StateManifest): StateManifest {
  const files = manifest.files.map((f) => (f.compression === undefined ? f : { ...f.compression.original, role: f.role }));
  const next: StateManifest = { ...manifest, formatVersion: STATE_FORMAT_VERSION, files };
  if (manifest.snapshot !== undefined) {
    next.snapshot = { ...manifest.snapshot };
    delete next.snapshot.compressed;
  }
  return next;
}

/**
 * Files a crash may have left in a state directory that its manifest does not use: partial files,
 * the compressed twin of a file listed uncompressed, the original of a file listed compressed.
 * Only names this code writes are ever candidates; anything else in the directory is left alone.
 */
export function leftoverNames(manifest: StateManifest, entries: readonly string[]): string[] {
  const listed = new Set(manifest.files.map((f) => f.name));
  const twins = new Set(manifest.files.map((f) => (f.compression === undefined ? compressedName(f.name) : f.compression.original.name)));
  return entries.filter((entry) => !listed.has(entry) && (isPartialName(entry) || twins.has(entry)));
}
