import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { CommandFailedError, runCommand } from "../util/run-command.ts";

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
 * Decompresses `path` into `target` (created or truncated). gzip runs in-process (streaming, constant
 * memory); zstd through the `zstd` CLI, which is faster than any in-process binding here and is
 * already snapvm's compressor (DESIGN.md §4). Damaged input is StateInvalid naming the file.
 */
export async function decompressStream(path: string, compression: Exclude<StreamCompression, "none">, target: string): Promise<void> {
  if (compression === "gzip") {
    try {
      await pipeline(createReadStream(path), createGunzip(), createWriteStream(target));
    } catch (error) {
      // zlib errors carry a code like Z_DATA_ERROR / Z_BUF_ERROR; file-system errors (ENOSPC) pass through.
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code !== "string" || !code.startsWith("Z_")) throw error;
      throw new SnapvmError(ErrorCode.StateInvalid, `${path}: the gzip data is damaged or truncated: ${(error as Error).message}`, {
        hint: "Check that the file was copied completely; `gzip -t` tests it.",
        cause: error,
        details: { path },
      });
    }
    return;
  }
  try {
    await runCommand("zstd", ["-d", "-q", "-f", "-o", target, path]);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    const missing = error.result === undefined;
    throw new SnapvmError(missing ? ErrorCode.ExternalTool : ErrorCode.StateInvalid, missing
      ? `decompressing ${path} needs the zstd command, which could not run: ${error.message}`
      : `${path}: the zstd data is damaged or truncated: ${error.message}`, {
      hint: missing ? "Install zstd (apt-get install zstd)." : "Check that the file was copied completely; `zstd -t` tests it.",
      cause: error,
      details: { path },
    });
  }
}

/**
 * Runs `use` with the path of a raw stream: `path` itself when it is not compressed, else a
 * decompressed copy in a temp directory under `tempParent`, removed afterwards whatever happens.
 */
export async function withRawStream<T>(
  path: string,
  tempParent: string,
  use: (rawPath: string, compression: StreamCompression) => Promise<T>,
): Promise<T> {
  const compression = await detectCompression(path);
  if (compression === "none") return use(path, compression);
  const dir = await mkdtemp(join(tempParent, "snapvm-stream-"));
  try {
    const raw = join(dir, "stream.raw");
    await decompressStream(path, compression, raw);
    return await use(raw, compression);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
