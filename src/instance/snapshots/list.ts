import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import {
  MANIFEST_NAME,
  diskLayerPath,
  instancePaths,
  snapshotPaths,
  trySnapshotTag,
  type InstanceName,
  type InstancePaths,
  type SnapshotTag,
} from "../../paths/index.ts";
import { type StateManifest } from "../../snapshot/manifest.ts";
import { readManifest } from "../../snapshot/read-manifest.ts";
import { inspectInstance, listInstanceNames } from "../../store/inspect.ts";
import { fileSizes } from "../../util/file-facts.ts";
import { readOrigin } from "../../store/fork-origin.ts";

export interface SnapshotSummary {
  instance: string;
  tag: string;
  kind: "live" | "suspended" | "disk-only";
  parent: string | null;
  createdAt: string;
  live: boolean;
  hasMemory: boolean;
  pauseMs: number;
  /** Allocated on disk: memory and device state, plus the frozen disk layer. */
  allocatedBytes: number;
  /** What a reader would see: the RAM file at its full length, uncompressed. */
  apparentBytes: number;
  compressed: boolean;
  diskLayer: string;
}

/** A snapshots/ entry that cannot be read as a snapshot: `snapshot list` shows it instead of failing. */
export interface BrokenSnapshot {
  instance: string;
  tag: string;
  kind: "broken";
  dir: string;
  reason: string;
}

export type SnapshotListEntry = SnapshotSummary | BrokenSnapshot;

export interface SnapshotDetails extends SnapshotSummary {
  dir: string;
  manifest: StateManifest;
  /** Forks made from this snapshot, which depend on it. */
  forks: string[];
}

/** snapshots/ entries, each parsed into a tag or the reason it is not one; hidden (temp) entries are skipped. */
async function snapshotEntries(paths: InstancePaths): Promise<({ entry: string } & ({ tag: SnapshotTag } | { reason: string }))[]> {
  if (!existsSync(paths.snapshotsDir)) return [];
  return (await readdir(paths.snapshotsDir))
    .filter((entry) => !entry.startsWith("."))
    .sort()
    .map((entry) => ({ entry, ...trySnapshotTag(entry) }));
}

async function snapshotTags(paths: InstancePaths): Promise<SnapshotTag[]> {
  return (await snapshotEntries(paths)).flatMap((e) => ("tag" in e ? [e.tag] : []));
}

async function summarize(instance: string, paths: InstancePaths, tag: SnapshotTag): Promise<SnapshotSummary & { manifest: StateManifest }> {
  const dir = snapshotPaths(paths, tag).dir;
  const manifest = await readManifest(dir);
  const facts = manifest.snapshot;
  if (facts === undefined) throw new SnapvmError(ErrorCode.StateInvalid, `${dir} holds a ${manifest.kind} state, not a snapshot`);
  const layer = await fileSizes(diskLayerPath(paths, facts.diskLayer)).catch(() => ({ allocatedBytes: 0, apparentBytes: 0 }));
  let allocated = layer.allocatedBytes;
  let apparent = layer.apparentBytes;
  // What the manifest lists, not what the directory holds: a compression in progress writes hidden
  // partial files, and the snapshot is uncompressed until its manifest flips. A compressed file
  // counts at its compressed allocation but its original length (what a reader will see).
  const listed = [{ name: MANIFEST_NAME, original: undefined }, ...manifest.files.map((f) => ({ name: f.name, original: f.compression?.original }))];
  for (const { name, original } of listed) {
    const sizes = await fileSizes(join(dir, name)).catch((error: unknown) => {
      if (isErrno(error, "ENOENT")) return { allocatedBytes: 0, apparentBytes: 0 };
      throw error;
    });
    allocated += sizes.allocatedBytes;
    apparent += original?.sizeBytes ?? sizes.apparentBytes;
  }
  return {
    instance,
    tag,
    kind: facts.hasMemory ? (facts.live ? "live" : "suspended") : "disk-only",
    parent: manifest.parent,
    createdAt: manifest.createdAt,
    live: facts.live,
    hasMemory: facts.hasMemory,
    pauseMs: manifest.pauseMs,
    allocatedBytes: allocated,
    apparentBytes: apparent,
    compressed: facts.compressed !== undefined,
    diskLayer: facts.diskLayer,
    manifest,
  };
}

/**
 * Every snapshot of one instance (or of all): an entry that is not a valid tag or whose manifest cannot
 * be read shows as `broken` with the reason and never fails the list. Every error of one entry becomes
 * its reason, because one bad entry must not hide the others.
 */
export async function listSnapshots(instance: InstanceName | undefined, home?: string): Promise<SnapshotListEntry[]> {
  if (instance !== undefined) await inspectInstance(instance, home); // a clear error for an unknown instance
  const names = instance === undefined ? await listInstanceNames(home) : [instance];
  const good: SnapshotSummary[] = [];
  const broken: BrokenSnapshot[] = [];
  for (const name of names) {
    const paths = instancePaths(name, home);
    for (const entry of await snapshotEntries(paths)) {
      const bad = (reason: string): BrokenSnapshot => ({
        instance: name,
        tag: entry.entry,
        kind: "broken",
        dir: join(paths.snapshotsDir, entry.entry),
        reason,
      });
      if (!("tag" in entry)) {
        broken.push(bad(entry.reason));
        continue;
      }
      try {
        const { manifest, ...summary } = await summarize(name, paths, entry.tag);
        good.push({ ...summary, compressed: manifest.snapshot?.compressed !== undefined });
      } catch (error) {
        broken.push(bad(error instanceof Error ? error.message : String(error)));
      }
    }
  }
  return [...good.sort((a, b) => a.createdAt.localeCompare(b.createdAt)), ...broken];
}

/** The newest snapshot of an instance: the parent of the next one. */
export async function latestSnapshotTag(paths: InstancePaths): Promise<SnapshotTag | null> {
  let latest: { tag: SnapshotTag; createdAt: string } | undefined;
  for (const tag of await snapshotTags(paths)) {
    const manifest = await readManifest(snapshotPaths(paths, tag).dir).catch(() => undefined);
    if (manifest !== undefined && (latest === undefined || manifest.createdAt > latest.createdAt)) latest = { tag, createdAt: manifest.createdAt };
  }
  return latest?.tag ?? null;
}

/** Instances forked from any snapshot of `instance` (their origin.json says so), with the tag each depends on. */
export async function forksOfInstance(instance: InstanceName, home?: string): Promise<{ name: InstanceName; tag: string }[]> {
  const forks: { name: InstanceName; tag: string }[] = [];
  for (const name of await listInstanceNames(home)) {
    const origin = await readOrigin(instancePaths(name, home));
    if (origin?.instance === instance) forks.push({ name, tag: origin.tag });
  }
  return forks;
}

/** Instances forked from instance@tag (their origin.json says so). */
export async function forksOf(instance: InstanceName, tag: SnapshotTag, home?: string): Promise<string[]> {
  return (await forksOfInstance(instance, home)).filter((f) => f.tag === tag).map((f) => f.name);
}

export async function snapshotDetails(instance: InstanceName, tag: SnapshotTag, home?: string): Promise<SnapshotDetails> {
  await inspectInstance(instance, home);
  const paths = instancePaths(instance, home);
  const dir = snapshotPaths(paths, tag).dir;
  if (!existsSync(dir)) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `instance "${instance}" has no snapshot "${tag}"`, {
      hint: `List its snapshots with \`snapvm snapshot list ${instance}\`.`,
      details: { instance, tag },
    });
  }
  return { ...(await summarize(instance, paths, tag)), dir, forks: await forksOf(instance, tag, home) };
}
