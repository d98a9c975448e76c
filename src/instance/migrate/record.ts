import { readFile } from "node:fs/promises";
import { isErrno } from "../../errors/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";

/** One host-to-host move, as both ends record it. Times are ISO strings; figures are the source's. */
export interface MigrationLeg {
  /** The other host (ssh://… as the user named it, or as the source names itself). */
  peer: string;
  startedAt: string;
  finishedAt: string;
  /** From the guest stopping on the source to it running on the destination (both hosts' clocks). */
  downtimeMs?: number;
  totalMs?: number;
  bytes?: number;
  diskBytes?: number;
}

/** migration.json: where the instance came from and where it went, the last move each way. */
export interface MigrationRecord {
  cameFrom?: MigrationLeg;
  wentTo?: MigrationLeg;
  /** A move under way (or broken after a post-copy switch-over): where `migrate --resume` goes. */
  pending?: { peer: string; startedAt: string };
}

/** Tolerant: no record, or an unreadable one, is no record. */
export async function readMigrationRecord(paths: InstancePaths): Promise<MigrationRecord | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(paths.migration, "utf8"));
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch (error) {
    if (isErrno(error, "ENOENT") || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Records one leg; a finished move (wentTo) ends the pending one. */
export async function recordMigration(
  paths: InstancePaths,
  leg: { cameFrom: MigrationLeg } | { wentTo: MigrationLeg } | { pending: NonNullable<MigrationRecord["pending"]> },
): Promise<void> {
  const { pending, ...current } = (await readMigrationRecord(paths)) ?? {};
  await writeJsonAtomic(paths.migration, { ...current, ...("wentTo" in leg || pending === undefined ? {} : { pending }), ...leg });
}
