import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { parseMigrationDest, formatMigrationDest, type MigrationDest } from "./migration-dest.ts";
import { parseInstanceName, parseSnapshotTag, type InstanceName, type SnapshotTag } from "./names.ts";

/**
 * A snapshot on another host: `ssh://[USER@]HOST[:PORT][/PATH-TO-SNAPVM-HOME]/NAME@TAG`. The last path
 * segment is always NAME@TAG (a home path cannot hold '@', a NAME@TAG always does), everything before it
 * is the host as `snapvm migrate` names it. Only parseRemoteSnapshot makes one.
 */
export interface RemoteSnapshot {
  readonly host: MigrationDest;
  readonly instance: InstanceName;
  readonly tag: SnapshotTag;
  /** Normalised, for records and messages. */
  readonly url: string;
}

const HINT = "Name it as ssh://[USER@]HOST[:PORT][/PATH-TO-SNAPVM-HOME]/NAME@TAG, e.g. ssh://root@10.0.0.2/var/lib/snapvm/dev@warm.";

export function isRemoteSnapshotUrl(text: string): boolean {
  return text.startsWith("ssh://");
}

export function parseRemoteSnapshot(text: string): RemoteSnapshot {
  const slash = text.lastIndexOf("/");
  const segment = slash < "ssh://".length ? "" : text.slice(slash + 1);
  const at = segment.lastIndexOf("@");
  if (!isRemoteSnapshotUrl(text) || at <= 0 || at === segment.length - 1)
    throw new SnapvmError(ErrorCode.InvalidArgument, `invalid remote snapshot ${JSON.stringify(text.slice(0, 300))}: it does not end in /NAME@TAG`, {
      hint: HINT,
    });
  const host = parseMigrationDest(text.slice(0, slash));
  const instance = parseInstanceName(segment.slice(0, at));
  const tag = parseSnapshotTag(segment.slice(at + 1));
  return { host, instance, tag, url: `${formatMigrationDest(host)}/${instance}@${tag}` };
}
