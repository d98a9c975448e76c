import { constants } from "node:fs";
import { copyFile } from "node:fs/promises";
import { runCommand } from "./run-command.ts";

export type CopyMethod = "reflink" | "sparse-copy";

/**
 * Copies a file keeping its holes: a reflink where the filesystem has it (XFS, btrfs: instant,
 * shares blocks), else `cp --sparse=always`, which also turns runs of zeros into holes.
 * Not fs.copyFile(COPYFILE_FICLONE): on ext4 it silently falls back to a full copy that fills
 * every hole (DESIGN.md §2) — a 2 GiB RAM file with 100 MiB touched would cost 2 GiB.
 */
export async function copySparse(source: string, target: string): Promise<CopyMethod> {
  try {
    await copyFile(source, target, constants.COPYFILE_FICLONE_FORCE);
    return "reflink";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "EINVAL" && code !== "ENOSYS") throw error;
  }
  await runCommand("cp", ["--sparse=always", "--", source, target]);
  return "sparse-copy";
}
