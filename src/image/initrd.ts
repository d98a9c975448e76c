import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { runCommand } from "../util/run-command.ts";
import { encodeCpio } from "./cpio.ts";
import { initramfsEntries, type InitramfsContents } from "./initramfs.ts";

export type InitrdCompression = "gzip" | "zstd";

/**
 * zstd, because the guest kernel unpacks it faster than gzip under TCG (measured in the image
 * check: see README in guest/). Debian's generic kernel has CONFIG_RD_ZSTD and CONFIG_RD_GZIP.
 */
export const INITRD_COMPRESSION: InitrdCompression = "zstd";

/**
 * Builds the compressed initramfs and returns its bytes. The cpio is stamped with mtime 0 and
 * compressed deterministically, so the same inputs give the same initrd.
 */
export async function buildInitrd(contents: InitramfsContents, workDir: string, compression = INITRD_COMPRESSION): Promise<Buffer> {
  const cpio = encodeCpio(initramfsEntries(contents));
  if (compression === "gzip") return gzipSync(cpio, { level: 9 });
  const input = join(workDir, "initrd.cpio");
  await writeFile(input, cpio);
  await runCommand("zstd", ["--quiet", "--force", "-19", input, "-o", `${input}.zst`]);
  return readFile(`${input}.zst`);
}
