import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import { MANIFEST_NAME, diskLayerPath, instancePaths, snapshotPaths, type InstancePaths } from "../../paths/index.ts";
import { type StateManifest } from "../../snapshot/manifest.ts";
import { readManifest } from "../../snapshot/read-manifest.ts";
import { inspectInstance, listInstanceNames } from "../../store/inspect.ts";
import { fileSizes } from "../../util/file-facts.ts";
import { readOrigin } from "../../store/fork-origin.ts";

export interface SnapshotSummary {
  instance: string;
  tag: string;
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

export interface SnapshotDetails extends SnapshotSummary {
  dir: string;
  manifest: StateManifest;
  /** Forks made from this snapshot, which depend on it. */
  forks: string[];
}

async function snapshotTags(paths: InstancePaths): Promise<string[]> {
  if (!existsSync(paths.snapshotsDir)) return [];
  return (await readdir(paths.snapshotsDir)).filter((entry) => !entry.startsWith(".")).sort();
}

async function summarize(instance: string, paths: InstancePaths, tag: string): Promise<SnapshotSummary & { manifest: StateManifest }> {
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
    instance, tag, parent: manifest.parent, createdAt: manifest.createdAt, live: facts.live, hasMemory: facts.hasMemory,
    pauseMs: manifest.pauseMs, allocatedBytes: allocated, apparentBytes: apparent, compressed: facts.compressed !== undefined,
    diskLayer: facts.diskLayer, manifest,
  };
}

export async function listSnapshots(instance: string | undefined, home?: string): Promise<SnapshotSummary[]> {
  const names = instance === undefined ? await listInstanceNames(home) : [(await inspectInstance(instance, home)).name];
  const all: SnapshotSummary[] = [];
  for (const name of names) {
    const paths = instancePaths(name, home);
    for (const tag of await snapshotTags(paths)) {
      const { manifest, ...summary } = await summarize(name, paths, tag);
      all.push({ ...summary, compressed: manifest.snapshot?.compressed !== undefined });
    }
  }
  return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The newest snapshot of an instance: the parent of the next one. */
export async function latestSnapshotTag(paths: InstancePaths): Promise<string | null> {
  let latest: { tag: string; createdAt: string } | undefined;
  for (const tag of await snapshotTags(paths)) {
    const manifest = await readManifest(snapshotPaths(paths, tag).dir).catch(() => undefined);
    if (manifest !== undefined && (latest === undefined || manifest.createdAt > latest.createdAt)) latest = { tag, createdAt: manifest.createdAt };
  }
  return latest?.tag ?? null;
}

/** Instances forked from instance@tag (their origin.json says so). */
export async function forksOf(instance: string, tag: string, home?: string): Promise<string[]> {
  const forks: string[] = [];
  for (const name of await listInstanceNames(home)) {
    const origin = await readOrigin(instancePaths(name, home));
    if (origin?.instance === instance && origin.tag === tag) forks.push(name);
  }
  return forks;
}

export async function snapshotDetails(instance: string, tag: string, home?: string): Promise<SnapshotDetails> {
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
