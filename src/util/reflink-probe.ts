import { constants } from "node:fs";
import { copyFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

const known = new Map<string, boolean>();

/** Whether files in `dir` can be reflinked (XFS with reflink=1, btrfs): tried once on a tiny file, then remembered. */
export async function supportsReflink(dir: string): Promise<boolean> {
  const cached = known.get(dir);
  if (cached !== undefined) return cached;
  const source = join(dir, `.reflink-probe-${process.pid}`);
  let works: boolean;
  try {
    await writeFile(source, "probe");
    await copyFile(source, `${source}.copy`, constants.COPYFILE_FICLONE_FORCE);
    works = true;
  } catch {
    works = false;
  } finally {
    await rm(source, { force: true });
    await rm(`${source}.copy`, { force: true });
  }
  known.set(dir, works);
  return works;
}
