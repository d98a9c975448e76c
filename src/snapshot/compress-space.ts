import { statfs } from "node:fs/promises";
import { ErrorCode, SnapvmError } from "../errors/index.ts";

/** What fs.statfs reports that matters here; tests inject a fake. */
export type StatfsFn = (path: string) => Promise<{ bavail: number; bsize: number }>;

/** Left free after decompressing, so a restore does not fill the filesystem to its last block. */
export const HEADROOM_BYTES = 64 * 1024 * 1024;

function mib(bytes: number): string {
  return `${Math.ceil(bytes / (1024 * 1024))} MiB`;
}

/**
 * Refuses, before writing anything, when `dir`'s filesystem cannot take `neededBytes` more plus the
 * headroom. Space available to unprivileged users (bavail) is what counts.
 */
export async function ensureFreeSpace(dir: string, neededBytes: number, what: string, statfsFn: StatfsFn = statfs): Promise<void> {
  const fs = await statfsFn(dir);
  const available = fs.bavail * fs.bsize;
  const wanted = neededBytes + HEADROOM_BYTES;
  if (available >= wanted) return;
  throw new SnapvmError(
    ErrorCode.InvalidTransition,
    `not enough space to decompress ${what}: it needs ${mib(wanted)} free in ${dir} and ${mib(available)} is available`,
    {
      hint: `Free at least ${mib(wanted - available)} on that filesystem (\`snapvm snapshot delete\` removes snapshots you no longer need), then try again.`,
      details: { dir, neededBytes: wanted, availableBytes: available },
    },
  );
}
