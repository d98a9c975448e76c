import { chmod, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { writeJsonAtomic } from "../util/atomic-write.ts";
import { faultPoint } from "../util/fault-point.ts";
import { fileSizes } from "../util/file-facts.ts";
import { fsyncDirectory, fsyncFile } from "../util/fsync.ts";
import {
  compressedEntry,
  compressedFiles,
  decompressedAllocation,
  isCompressible,
  leftoverNames,
  withCompressedFiles,
  withoutCompression,
} from "./compress-manifest.ts";
import { ensureFreeSpace, type StatfsFn } from "./compress-space.ts";
import { zstdCompress, zstdDecompress } from "./compress-zstd.ts";
import { type StateFile } from "./manifest.ts";
import { MANIFEST_NAME, compressedName, partialName } from "../paths/index.ts";
import { readManifest } from "./read-manifest.ts";

/**
 * Compressing and decompressing the memory files of a state directory in place. The caller holds
 * the directory's compress lock (COMPRESS_LOCK_NAME), so no two of these run on one directory.
 *
 * Steps (either direction), and why a crash anywhere leaves a usable state:
 *   1. write each new file under a partial name, fsync it, rename it to its final name, fsync the
 *      directory — the manifest still lists only the old files, which are untouched;
 *   2. the manifest flips atomically (temp + fsync + rename + fsync): the point of no return;
 *   3. the old files, no longer listed, are removed.
 * A crash leaves at worst unlisted files, which cleanStateDir removes the next time.
 * A failure before step 2 removes what step 1 wrote and rethrows: the state is as it was.
 */

export interface FileChange {
  from: string;
  to: string;
  /** Allocated bytes before and after: what the change cost or saved on disk. */
  fromAllocatedBytes: number;
  toAllocatedBytes: number;
  /** The uncompressed length, holes included. */
  apparentBytes: number;
}

export interface StateCompression {
  /** False when there was nothing to do: already in the asked form, or no memory files. */
  changed: boolean;
  files: FileChange[];
  totalMs: number;
}

export interface CompressOptions {
  level: number;
  /** Runs just before the manifest flips; throwing aborts and leaves the state uncompressed. */
  beforeCommit?: () => Promise<void>;
}

export interface DecompressOptions {
  /** Names the state in messages, e.g. `snapshot "warm" of "dev"`. */
  what?: string;
  statfs?: StatfsFn;
}

/** Removes what a crashed compress or decompress left behind (see leftoverNames). */
export async function cleanStateDir(dir: string): Promise<string[]> {
  const leftovers = leftoverNames(await readManifest(dir), await readdir(dir));
  for (const entry of leftovers) await rm(join(dir, entry), { force: true });
  if (leftovers.length > 0) await fsyncDirectory(dir);
  return leftovers;
}

/**
 * Step 1 for one file: `make(partialPath)` writes it from `source`; it lands durable under
 * `finalName`, with the source's permissions (guest memory is as private as the file it came from).
 */
async function writeDurably(dir: string, source: string, finalName: string, stage: string, make: (partial: string) => Promise<void>): Promise<void> {
  const partial = join(dir, partialName(finalName));
  await rm(partial, { force: true });
  await make(partial);
  faultPoint(`${stage}:written`);
  await chmod(partial, (await stat(join(dir, source))).mode & 0o777);
  await fsyncFile(partial);
  await rename(partial, join(dir, finalName));
}

/**
 * Undoes step 1 after a failure: the manifest decides what is a leftover. Best effort: a failing
 * cleanup must not hide why the step failed, and the next run cleans again.
 */
async function undoUnlisted(dir: string, error: unknown): Promise<never> {
  await cleanStateDir(dir).catch(() => undefined);
  throw error;
}

export async function compressStateDir(dir: string, options: CompressOptions): Promise<StateCompression> {
  const started = performance.now();
  const manifest = await readManifest(dir);
  const targets = manifest.files.filter(isCompressible);
  if (targets.length === 0) return { changed: false, files: [], totalMs: performance.now() - started };
  const files: StateFile[] = [];
  const changes: FileChange[] = [];
  try {
    for (const file of manifest.files) {
      if (!targets.includes(file)) {
        files.push(file);
        continue;
      }
      const name = compressedName(file.name);
      const before = await fileSizes(join(dir, file.name));
      await writeDurably(dir, file.name, name, "compress", (partial) => zstdCompress(join(dir, file.name), partial, options.level));
      const sizes = await fileSizes(join(dir, name));
      files.push(compressedEntry(file, options.level, sizes));
      changes.push({
        from: file.name,
        to: name,
        fromAllocatedBytes: before.allocatedBytes,
        toAllocatedBytes: sizes.allocatedBytes,
        apparentBytes: before.apparentBytes,
      });
    }
    await fsyncDirectory(dir);
    faultPoint("compress:renamed");
    await options.beforeCommit?.();
    await writeJsonAtomic(join(dir, MANIFEST_NAME), withCompressedFiles(manifest, files, options.level));
  } catch (error) {
    return undoUnlisted(dir, error);
  }
  faultPoint("compress:committed");
  for (const file of targets) await rm(join(dir, file.name), { force: true });
  await fsyncDirectory(dir);
  return { changed: true, files: changes, totalMs: performance.now() - started };
}

/** Refuses (InvalidTransition, naming the space needed) before writing anything when the disk is short. */
export async function decompressStateDir(dir: string, options: DecompressOptions = {}): Promise<StateCompression> {
  const started = performance.now();
  const manifest = await readManifest(dir);
  const targets = compressedFiles(manifest);
  if (targets.length === 0 && manifest.snapshot?.compressed === undefined) return { changed: false, files: [], totalMs: performance.now() - started };
  await ensureFreeSpace(dir, decompressedAllocation(manifest), options.what ?? dir, options.statfs);
  const changes: FileChange[] = [];
  try {
    for (const file of targets) {
      const original = file.compression?.original;
      if (original === undefined) continue;
      await writeDurably(dir, file.name, original.name, "decompress", (partial) => zstdDecompress(join(dir, file.name), partial));
      const sizes = await fileSizes(join(dir, original.name));
      if (sizes.apparentBytes !== original.sizeBytes) {
        throw new SnapvmError(
          ErrorCode.StateInvalid,
          `${file.name} in ${dir} decompressed to ${sizes.apparentBytes} bytes; the manifest says ${original.sizeBytes}`,
          {
            hint: "The compressed file is not the one the manifest describes; the snapshot cannot be used.",
            details: { dir, file: file.name },
          },
        );
      }
      changes.push({
        from: file.name,
        to: original.name,
        fromAllocatedBytes: file.allocatedBytes,
        toAllocatedBytes: sizes.allocatedBytes,
        apparentBytes: sizes.apparentBytes,
      });
    }
    await fsyncDirectory(dir);
    faultPoint("decompress:renamed");
    await writeJsonAtomic(join(dir, MANIFEST_NAME), withoutCompression(manifest));
  } catch (error) {
    return undoUnlisted(dir, error);
  }
  faultPoint("decompress:committed");
  for (const file of targets) await rm(join(dir, file.name), { force: true });
  await fsyncDirectory(dir);
  return { changed: true, files: changes, totalMs: performance.now() - started };
}
