import { spawn } from "node:child_process";
import { SCRATCH_NAMES, scratchDirPrefix } from "../paths/index.ts";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, statfs } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { formatSize } from "../config/index.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";

/**
 * How a migration stream file is stored. QEMU writes raw streams ("QEVM"); the well-known recipe
 * `migrate "exec:gzip -c > STATE.gz"` (or `zstd`) compresses them on the way out.
 */
export type StreamCompression = "none" | "gzip" | "zstd";

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * Tells compression by magic bytes. Anything that is neither gzip nor zstd is "none": the stream
 * decoder then names what it is (or is not) precisely, with the offset.
 */
export async function detectCompression(path: string): Promise<StreamCompression> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytes.subarray(0, 2).equals(GZIP_MAGIC)) return "gzip";
    if (bytes.equals(ZSTD_MAGIC)) return "zstd";
    return "none";
  } finally {
    await handle.close();
  }
}

/**
 * How far a decompression may go. Compressed input is untrusted (a few KiB of zstd can expand to
 * terabytes), so the output is counted while it streams and the decompression stops at `maxBytes`.
 */
export interface DecompressBound {
  maxBytes: number;
  /** Why this bound, for the error: e.g. "the guest's RAM + 64 MiB". */
  reason: string;
}

/** Passes bytes through until more than `bound.maxBytes` went by, then fails with InputTooLarge. */
function byteLimit(path: string, bound: DecompressBound): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen <= bound.maxBytes) {
        callback(null, chunk);
        return;
      }
      callback(
        new SnapvmError(ErrorCode.InputTooLarge, `${path} decompresses to more than ${formatSize(bound.maxBytes)} (${bound.reason}); stopped there`, {
          hint: "A migration stream of this guest cannot be that large: the file is not such a stream, or it is damaged.",
          details: { path, maxBytes: bound.maxBytes },
        }),
      );
    },
  });
}

function damaged(path: string, kind: "gzip" | "zstd", message: string, cause: unknown): SnapvmError {
  return new SnapvmError(ErrorCode.StateInvalid, `${path}: the ${kind} data is damaged or truncated: ${message}`, {
    hint: `Check that the file was copied completely; \`${kind} -t\` tests it.`,
    cause,
    details: { path },
  });
}

/**
 * Decompresses `path` into `target` (created or truncated), at most `bound.maxBytes` of output;
 * on any failure `target` is removed. gzip runs in-process (streaming, constant memory); zstd
 * through the `zstd` CLI writing to a pipe, which is faster than any in-process binding here and
 * is already snapvm's compressor (DESIGN.md §4), and is killed when the bound is reached. Damaged
 * input is StateInvalid naming the file.
 */
export async function decompressStream(path: string, compression: Exclude<StreamCompression, "none">, target: string, bound: DecompressBound): Promise<void> {
  try {
    if (compression === "gzip") await gunzipInto(path, target, bound);
    else await unzstdInto(path, target, bound);
  } catch (error) {
    await rm(target, { force: true });
    throw error;
  }
}

async function gunzipInto(path: string, target: string, bound: DecompressBound): Promise<void> {
  try {
    await pipeline(createReadStream(path), createGunzip(), byteLimit(path, bound), createWriteStream(target));
  } catch (error) {
    // zlib errors carry a code like Z_DATA_ERROR / Z_BUF_ERROR; file-system errors (ENOSPC) pass through.
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== "string" || !code.startsWith("Z_")) throw error;
    throw damaged(path, "gzip", (error as Error).message, error);
  }
}

async function unzstdInto(path: string, target: string, bound: DecompressBound): Promise<void> {
  const child = spawn("zstd", ["-d", "-q", "-c", "--", path], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  const exited = new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.once("error", (spawnError) => {
      resolve({ code: null, spawnError });
    });
    child.once("close", (code) => {
      resolve({ code });
    });
  });
  const missing = (error: Error): SnapvmError =>
    new SnapvmError(ErrorCode.ExternalTool, `decompressing ${path} needs the zstd command, which could not run: ${error.message}`, {
      hint: "Install zstd (apt-get install zstd).",
      cause: error,
      details: { path },
    });
  try {
    await pipeline(child.stdout, byteLimit(path, bound), createWriteStream(target));
  } catch (error) {
    child.kill("SIGKILL");
    const { spawnError } = await exited;
    throw spawnError === undefined ? error : missing(spawnError);
  }
  const { code, spawnError } = await exited;
  if (spawnError !== undefined) throw missing(spawnError);
  if (code !== 0) throw damaged(path, "zstd", stderr.trim() || `zstd exited with ${code}`, undefined);
}

/**
 * Runs `use` with the path of a raw stream: `path` itself when it is not compressed, else a
 * decompressed copy (at most `bound.maxBytes`) in a temp directory under `tempParent`, removed
 * afterwards whatever happens.
 */
export async function withRawStream<T>(
  path: string,
  tempParent: string,
  use: (rawPath: string, compression: StreamCompression) => Promise<T>,
  bound: DecompressBound,
): Promise<T> {
  const compression = await detectCompression(path);
  if (compression === "none") return use(path, compression);
  const dir = await mkdtemp(scratchDirPrefix("stream", tempParent));
  try {
    const raw = join(dir, SCRATCH_NAMES.rawStream);
    await decompressStream(path, compression, raw, bound);
    return await use(raw, compression);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A cap that applies to anything: the most a temp copy may take of `dir`'s free space. */
export const DECOMPRESS_CAP_BYTES = 64 * 2 ** 30;
const FREE_SPACE_MARGIN_BYTES = 2 ** 30;

/**
 * The bound when nothing about the stream is known (inspect-state): 64 GiB, or the free space of the
 * temp directory minus 1 GiB if that is less, so a bomb stops before it fills the disk.
 */
export async function freeSpaceBound(dir: string): Promise<DecompressBound> {
  const fs = await statfs(dir);
  const free = Math.max(0, fs.bavail * fs.bsize - FREE_SPACE_MARGIN_BYTES);
  return free < DECOMPRESS_CAP_BYTES
    ? { maxBytes: free, reason: `the free space of ${dir} less 1 GiB` }
    : { maxBytes: DECOMPRESS_CAP_BYTES, reason: "snapvm's cap on a decompressed stream" };
}
