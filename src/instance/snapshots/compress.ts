import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { loadConfigFile, type InstanceConfig } from "../../config/index.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { COMPRESS_LOCK_NAME, instancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { isCompressible } from "../../snapshot/compress-manifest.ts";
import { cleanStateDir, compressStateDir, decompressStateDir, type StateCompression } from "../../snapshot/compress.ts";
import type { StatfsFn } from "../../snapshot/compress-space.ts";
import { acquireLock, lockOwner, type InstanceLock } from "../../store/lock.ts";
import { forksOf, snapshotDetails } from "./list.ts";

export interface SnapshotCompressResult extends StateCompression {
  instance: string;
  tag: string;
}

export interface CompressSnapshotOptions {
  /** zstd level 1–19; default: the instance's `snapshot.level`. */
  level?: number;
  home?: string;
  onProgress?: (step: string) => void;
}

export interface DecompressSnapshotOptions {
  home?: string;
  onProgress?: (step: string) => void;
  /** Tests inject a full disk. */
  statfs?: StatfsFn;
}

/** How long a compress or decompress waits for another one on the same snapshot to finish. */
const LOCK_WAIT_MS = 10 * 60_000;
const LOCK_POLL_MS = 200;

/**
 * One compress or decompress at a time per snapshot: restore and fork wait for a background
 * compression to finish, then decompress. A lock whose owner died is taken over (store/lock.ts),
 * and cleanStateDir then removes what the dead owner left half-written.
 */
async function withSnapshotLock<T>(name: string, tag: string, dir: string, work: () => Promise<T>): Promise<T> {
  const path = join(dir, COMPRESS_LOCK_NAME);
  const deadline = Date.now() + LOCK_WAIT_MS;
  let lock: InstanceLock | undefined;
  while (lock === undefined) {
    try {
      lock = await acquireLock(path, `${name}@${tag}`);
    } catch (error) {
      if (!isSnapvmError(error, ErrorCode.InstanceLocked)) throw error;
      if (Date.now() >= deadline) {
        throw new SnapvmError(
          ErrorCode.InstanceLocked,
          `snapshot "${tag}" of "${name}" is still being compressed or decompressed by pid ${(await lockOwner(path)) ?? "?"}`,
          {
            hint: `See \`snapvm logs ${name} --agent\`, and try again when it has finished.`,
            details: { instance: name, tag },
            cause: error,
          },
        );
      }
      await delay(LOCK_POLL_MS);
    }
  }
  try {
    await cleanStateDir(dir);
    return await work();
  } finally {
    await lock.release();
  }
}

/** Forks map the snapshot's memory.ram (copy-on-write): it must stay a plain file while any exists. */
function refuseIfForked(name: string, tag: string, forks: string[]): void {
  if (forks.length === 0) return;
  throw new SnapvmError(
    ErrorCode.InvalidTransition,
    `snapshot "${tag}" of "${name}" cannot be compressed: ${forks.length === 1 ? "fork" : "forks"} ${forks.map((f) => `"${f}"`).join(", ")} ${forks.length === 1 ? "maps" : "map"} its memory`,
    {
      hint: `Delete ${forks.length === 1 ? "that fork" : "those forks"} first, or leave the snapshot uncompressed.`,
      details: { instance: name, tag, forks },
    },
  );
}

function checkLevel(level: number): number {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `zstd level must be a whole number from 1 to 19, got ${level}`, {
      hint: "1 is fastest, 19 smallest; 3 is zstd's default.",
    });
  }
  return level;
}

/**
 * `snapvm snapshot compress NAME TAG`: zstd the snapshot's memory files in place. Never pauses a
 * guest (the snapshot is already on disk). Idempotent: an already compressed snapshot is left as
 * it is. Refused while forks depend on the snapshot, checked again just before the manifest flips.
 */
export async function compressSnapshot(name: InstanceName, tag: SnapshotTag, options: CompressSnapshotOptions = {}): Promise<SnapshotCompressResult> {
  const details = await snapshotDetails(name, tag, options.home);
  refuseIfForked(name, tag, details.forks);
  const level = checkLevel(options.level ?? (await loadConfigFile(instancePaths(name, options.home).config)).snapshot.level);
  options.onProgress?.(`compressing the memory files (zstd -${level})`);
  const outcome = await withSnapshotLock(name, tag, details.dir, () =>
    compressStateDir(details.dir, {
      level,
      beforeCommit: async () => {
        refuseIfForked(name, tag, await forksOf(name, tag, options.home));
      },
    }),
  );
  return { instance: name, tag, ...outcome };
}

/**
 * `snapvm snapshot decompress NAME TAG`, and the first step of restoring or forking a compressed
 * snapshot. Holes come back as holes. Refused, before writing anything, when the filesystem lacks
 * the space (the message says how much). Idempotent.
 */
export async function decompressSnapshot(name: InstanceName, tag: SnapshotTag, options: DecompressSnapshotOptions = {}): Promise<SnapshotCompressResult> {
  const details = await snapshotDetails(name, tag, options.home);
  options.onProgress?.("decompressing the memory files");
  const outcome = await withSnapshotLock(name, tag, details.dir, () =>
    decompressStateDir(details.dir, {
      what: `snapshot "${tag}" of "${name}"`,
      ...(options.statfs === undefined ? {} : { statfs: options.statfs }),
    }),
  );
  return { instance: name, tag, ...outcome };
}

/** A compression started in the background, or why none could be. */
export type BackgroundCompression = { pid: number; level: number } | { skipped: string };

/**
 * After `snapvm snapshot create`: when the instance's config says `snapshot.compression: zstd`,
 * starts `snapvm snapshot compress NAME TAG --background` detached, logging to the instance's
 * agent.log, and returns at once (the caller does not wait for it). Returns the child's pid and the
 * level; undefined when compression is off or the snapshot has no memory files.
 */
export async function compressInBackground(name: InstanceName, tag: SnapshotTag, home?: string): Promise<BackgroundCompression | undefined> {
  const paths = instancePaths(name, home);
  let config: InstanceConfig;
  try {
    config = await loadConfigFile(paths.config);
  } catch (error) {
    // The snapshot exists and is fine; failing `snapshot create` now would tell scripts otherwise.
    if (isSnapvmError(error, ErrorCode.InvalidConfig)) return { skipped: `snapvm.yaml is invalid (${error.message})` };
    throw error;
  }
  if (config.snapshot.compression !== "zstd") return undefined;
  if (!(await snapshotDetails(name, tag, home)).manifest.files.some(isCompressible)) return undefined;
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot locate the snapvm entry script to spawn the compression");
  const level = config.snapshot.level;
  const log = openSync(paths.agentLog, "a");
  try {
    const child = spawn(process.execPath, [...process.execArgv, script, "snapshot", "compress", name, tag, "--level", String(level), "--background"], {
      detached: true,
      stdio: ["ignore", log, log],
      env: home === undefined ? process.env : { ...process.env, SNAPVM_HOME: home },
    });
    child.on("error", () => undefined); // reported by the missing log line; the snapshot itself is complete
    child.unref();
    return child.pid === undefined ? undefined : { pid: child.pid, level };
  } finally {
    closeSync(log);
  }
}

/** One JSON line in the agent log's layout (src/agent/logger.ts), which this process shares. */
function logLine(level: "info" | "warn" | "error", instance: string, fields: Record<string, unknown>, msg: string): void {
  const record = { level: { info: 30, warn: 40, error: 50 }[level], time: new Date().toISOString(), instance, ...fields, msg };
  try {
    writeSync(2, `${JSON.stringify(record)}\n`);
  } catch {
    // A full disk must not turn a finished compression into a failure.
  }
}

/**
 * The body of the hidden `--background` mode: runs at low CPU priority (the host's guests come
 * first), logs instead of printing, and returns the exit code. A snapshot that was forked or deleted
 * meanwhile is not an error: it simply stays as it is.
 */
export async function runBackgroundCompression(name: InstanceName, tag: SnapshotTag, level: number | undefined, home?: string): Promise<number> {
  setPriority(10);
  logLine("info", name, { tag, pid: process.pid }, "compressing snapshot in the background");
  try {
    const r = await compressSnapshot(name, tag, { ...(level === undefined ? {} : { level }), ...(home === undefined ? {} : { home }) });
    logLine(
      "info",
      name,
      { tag, changed: r.changed, files: r.files, totalMs: Math.round(r.totalMs) },
      r.changed ? "snapshot compressed" : "snapshot already compressed",
    );
    return 0;
  } catch (error) {
    const expected =
      isSnapvmError(error, ErrorCode.InvalidTransition) || isSnapvmError(error, ErrorCode.InvalidArgument) || isSnapvmError(error, ErrorCode.InstanceNotFound);
    const reason = isSnapvmError(error)
      ? error.toJSON()
      : { message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined };
    logLine(expected ? "warn" : "error", name, { tag, error: reason }, "snapshot left uncompressed");
    return expected ? 0 : 1;
  }
}
