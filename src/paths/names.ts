import { ErrorCode, SnapvmError } from "../errors/index.ts";

/**
 * An instance name that passed parseInstanceName: safe as one directory name under instances/ and as
 * part of a unix socket path. Only the parser makes one, so a path built from it cannot leave the home.
 */
export type InstanceName = string & { readonly __brand: "InstanceName" };

/** A snapshot tag that passed parseSnapshotTag: safe as one directory name under snapshots/. */
export type SnapshotTag = string & { readonly __brand: "SnapshotTag" };

/**
 * The id of a state kept aside in failed-states/ that passed parseFailedStateId: one safe directory
 * name (snapvm makes them from the time, newFailedStateId; the parser accepts any safe name so a
 * directory renamed by hand can still be named).
 */
export type FailedStateId = string & { readonly __brand: "FailedStateId" };

/**
 * Instance names become directory names and parts of unix socket paths, which Linux caps at
 * 107 bytes (UNIX_SOCKET_PATH_MAX); 32 characters leaves room for a deep SNAPVM_HOME.
 */
export const INSTANCE_NAME_MAX = 32;
export const SNAPSHOT_TAG_MAX = 63;

const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const NAME_HINT = `Use 1 to ${INSTANCE_NAME_MAX} characters: lowercase letters, digits and '-', starting with a letter (e.g. "dev-1").`;
const TAG_HINT = `Use 1 to ${SNAPSHOT_TAG_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. "before-upgrade").`;

/** The one way to make an InstanceName; throws SnapvmError(InvalidName) saying why `text` is not one. */
export function parseInstanceName(text: string): InstanceName {
  const why = whyInvalidName(text);
  if (why !== undefined) {
    throw new SnapvmError(ErrorCode.InvalidName, `invalid instance name ${JSON.stringify(text)}: ${why}`, {
      hint: NAME_HINT,
      details: { name: text },
    });
  }
  return text as InstanceName;
}

/** The one way to make a SnapshotTag; throws SnapvmError(InvalidName) saying why `text` is not one. */
export function parseSnapshotTag(text: string): SnapshotTag {
  const why = whyInvalidTag(text);
  if (why !== undefined) {
    throw new SnapvmError(ErrorCode.InvalidName, `invalid snapshot tag ${JSON.stringify(text)}: ${why}`, {
      hint: TAG_HINT,
      details: { tag: text },
    });
  }
  return text as SnapshotTag;
}

/** The one way to make a FailedStateId from user input; throws SnapvmError(InvalidName). */
export function parseFailedStateId(text: string): FailedStateId {
  const why = whyInvalidTag(text);
  if (why !== undefined) {
    throw new SnapvmError(ErrorCode.InvalidName, `invalid failed-state id ${JSON.stringify(text)}: ${why}`, {
      hint: "Ids are the names `snapvm state list NAME` shows, e.g. 2026-12-02T17-18-28.123Z.",
      details: { id: text },
    });
  }
  return text as FailedStateId;
}

/** For failed-state directories read from disk: the brand, or why the entry is not an id. */
export function tryFailedStateId(text: string): { id: FailedStateId } | { reason: string } {
  const why = whyInvalidTag(text);
  return why === undefined ? { id: text as FailedStateId } : { reason: `not a valid failed-state id: ${why}` };
}

/** For names read from disk (directory entries): the brand, or why the entry is not a name. */
export function tryInstanceName(text: string): { name: InstanceName } | { reason: string } {
  const why = whyInvalidName(text);
  return why === undefined ? { name: text as InstanceName } : { reason: `not a valid instance name: ${why}` };
}

/** For tags read from disk (directory entries): the brand, or why the entry is not a tag. */
export function trySnapshotTag(text: string): { tag: SnapshotTag } | { reason: string } {
  const why = whyInvalidTag(text);
  return why === undefined ? { tag: text as SnapshotTag } : { reason: `not a valid snapshot tag: ${why}` };
}

export function isValidInstanceName(text: string): boolean {
  return whyInvalidName(text) === undefined;
}

function whyInvalidName(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (name.length > INSTANCE_NAME_MAX) return `it is ${name.length} characters long (at most ${INSTANCE_NAME_MAX})`;
  if (NAME_PATTERN.test(name)) return undefined;
  if (!/^[a-z]/.test(name)) return "it must start with a lowercase letter";
  const bad = /[^a-z0-9-]/u.exec(name)?.[0] ?? "";
  return `${JSON.stringify(bad)} is not allowed (only lowercase letters, digits and '-')`;
}

function whyInvalidTag(tag: string): string | undefined {
  if (tag === "") return "it is empty";
  if (tag.length > SNAPSHOT_TAG_MAX) return `it is ${tag.length} characters long (at most ${SNAPSHOT_TAG_MAX})`;
  if (TAG_PATTERN.test(tag)) return undefined;
  if (!/^[A-Za-z0-9]/.test(tag)) return "it must start with a letter or digit";
  const bad = /[^A-Za-z0-9._-]/u.exec(tag)?.[0] ?? "";
  return `${JSON.stringify(bad)} is not allowed (only letters, digits, '.', '_' and '-')`;
}
