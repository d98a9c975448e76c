import { readdirSync } from "node:fs";
import { instancePaths, instancesDir } from "../paths/index.ts";
import { tryInstanceName, trySnapshotTag } from "../paths/names.ts";
import type { InstanceName } from "../paths/names.ts";

/**
 * What `snapvm complete` offers for positional arguments: the instances and snapshot tags that exist
 * in SNAPVM_HOME. Read synchronously (the completion library calls its handlers synchronously) and
 * quietly: a shell asking for candidates must never see an error, only fewer candidates. Entries that
 * are not valid names (a temp directory, a hand-made one) are never offered.
 */
function directoryNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

export function instanceCandidates(home?: string): InstanceName[] {
  return directoryNames(instancesDir(home)).flatMap((entry) => {
    const parsed = tryInstanceName(entry);
    return "name" in parsed ? [parsed.name] : [];
  });
}

/** The tags of `name`'s snapshots; none when `name` is not a valid instance name. */
export function tagCandidates(name: string, home?: string): string[] {
  const parsed = tryInstanceName(name);
  if (!("name" in parsed)) return [];
  return directoryNames(instancePaths(parsed.name, home).snapshotsDir).filter((entry) => "tag" in trySnapshotTag(entry));
}

/** Every NAME@TAG a fork can start from. */
export function forkSourceCandidates(home?: string): string[] {
  return instanceCandidates(home).flatMap((name) => tagCandidates(name, home).map((tag) => `${name}@${tag}`));
}

/**
 * The instance name already typed before a tag: the completion request's words (after `--`) without
 * options, where the command's own words come first (`snapshot restore dev ''` → `dev`).
 */
export function typedInstance(requestWords: readonly string[], commandDepth: number): string {
  return requestWords.filter((word) => !word.startsWith("-"))[commandDepth] ?? "";
}
