import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface FileSizes {
  /** The length a reader sees. */
  apparentBytes: number;
  /** What the file costs on disk: holes in a sparse file cost nothing. */
  allocatedBytes: number;
  mtimeMs: number;
}

export async function fileSizes(path: string): Promise<FileSizes> {
  const info = await stat(path);
  return { apparentBytes: info.size, allocatedBytes: info.blocks * 512, mtimeMs: info.mtimeMs };
}
