import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fsyncDirectory } from "./fsync.ts";

/**
 * Writes a file so that readers see the old content or the new, never a mix: write a temp
 * sibling, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, durable = true): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const handle = await open(temp, "w", mode);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (durable) await fsyncDirectory(dirname(path));
}

/** `durable: false` keeps the all-or-nothing rename but skips the fsyncs, for files that are only a cache. */
export async function writeJsonAtomic(path: string, value: unknown, durable = true): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, 0o600, durable);
}
