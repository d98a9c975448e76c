import { readFile, writeFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { runCommand } from "../util/run-command.ts";

export type FileCompression = "xz" | "zstd" | "gzip";

export const COMPRESSION_SUFFIX: Readonly<Record<FileCompression, string>> = { xz: ".xz", zstd: ".zst", gzip: ".gz" };

/**
 * Decompresses `input` next to itself and returns the output path: `input` without its suffix.
 * Contract: `input` ends with COMPRESSION_SUFFIX[compression] (xz names its output that way).
 * Only the first stream is read, so trailing bytes after it are ignored; the input is kept.
 */
export async function decompressFile(input: string, compression: FileCompression): Promise<string> {
  const suffix = COMPRESSION_SUFFIX[compression];
  if (!input.endsWith(suffix)) throw new Error(`decompressFile: ${input} does not end with ${suffix}`);
  const output = input.slice(0, -suffix.length);
  switch (compression) {
    case "xz":
      await runCommand("xz", ["--decompress", "--keep", "--force", "--single-stream", input]);
      break;
    case "zstd":
      await runCommand("zstd", ["--decompress", "--quiet", "--force", input, "-o", output]);
      break;
    case "gzip":
      await writeFile(output, gunzipSync(await readFile(input)));
      break;
  }
  return output;
}
