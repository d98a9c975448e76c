import { open } from "node:fs/promises";

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Flushes a file's data and what reading it back needs (size, block allocation), not its timestamps.
 * For the guest's RAM file: every page the guest writes through the mapping bumps the file's mtime,
 * and a full fsync would commit the journal for that alone (~10–20 ms of a save's pause, measured).
 */
export async function fdatasyncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** A rename is durable only once its directory is fsynced. */
export async function fsyncDirectory(path: string): Promise<void> {
  await fsyncFile(path);
}
