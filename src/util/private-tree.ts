import { chmod, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDirectory, fsyncFile } from "./fsync.ts";

/** No group or other bits: a state file holds guest RAM, a socket is control of the VM. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes `path` (and missing parents) a directory only the owner may enter. The mode is set with
 * chmod as well as mkdir because mkdir's mode is masked by the umask, which a library may change.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(path, PRIVATE_DIR_MODE);
}

/**
 * Before a directory tree is published (renamed into place): every file and directory in it loses
 * its group and other bits and is fsynced, children before their directory, so after the rename and
 * an fsync of the parent the whole tree is durable. Symlinks are left as they are (their mode means
 * nothing on Linux; their target is fsynced where it lives).
 */
export async function sealTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await sealTree(path);
    else if (entry.isFile()) {
      const { mode } = await lstat(path);
      await chmod(path, mode & 0o700);
      await fsyncFile(path);
    }
  }
  const { mode } = await lstat(dir);
  await chmod(dir, mode & 0o700);
  await fsyncDirectory(dir);
}
