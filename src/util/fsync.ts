import { open } from "node:fs/promises";

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A rename is durable only once its directory is fsynced. */
export async function fsyncDirectory(path: string): Promise<void> {
  await fsyncFile(path);
}
