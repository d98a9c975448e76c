import { readdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isErrno } from "../errors/index.ts";
import { fsyncDirectory, fsyncFile } from "../util/fsync.ts";

/**
 * Moves a fully written image directory `staged` to `target`, replacing any previous image, so
 * that `target` is either absent, the old image or the new one — never half-built. `graveyard`
 * (on the same file system, removed by the caller) receives the old image.
 * Returns false if another build installed its image between our two renames; ours is dropped.
 */
export async function installImage(staged: string, target: string, graveyard: string): Promise<boolean> {
  for (const name of await readdir(staged)) await fsyncFile(join(staged, name));
  await fsyncDirectory(staged);
  let movedOld = false;
  try {
    await rename(target, graveyard);
    movedOld = true;
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error;
  }
  try {
    await rename(staged, target);
  } catch (error) {
    if (isErrno(error, "ENOTEMPTY") || isErrno(error, "EEXIST")) return false;
    if (movedOld) await rename(graveyard, target).catch(() => undefined); // undo: keep the old image
    throw error;
  }
  await fsyncDirectory(dirname(target));
  return true;
}
