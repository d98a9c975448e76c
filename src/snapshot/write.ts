import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { MANIFEST_NAME, snapshotPaths, snapshotTempDir, type InstancePaths, type SnapshotPaths, type SnapshotTag } from "../paths/index.ts";
import { type StateFile, type StateManifest } from "./manifest.ts";
import { writeJsonAtomic } from "../util/atomic-write.ts";
import { fileSizes, sha256File } from "../util/file-facts.ts";
import { fsyncDirectory, fsyncFile } from "../util/fsync.ts";

/** A snapshot being written: files go to a hidden temp directory renamed into place by `commit`. */
export interface PendingSnapshot {
  tag: string;
  final: SnapshotPaths;
  temp: string;
}

export async function beginSnapshot(paths: InstancePaths, tag: SnapshotTag): Promise<PendingSnapshot> {
  const final = snapshotPaths(paths, tag);
  if (existsSync(final.dir)) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `snapshot "${tag}" already exists in ${final.dir}`, {
      hint: "Pick another tag, or delete the old one with `snapvm snapshot delete`.",
    });
  }
  await mkdir(paths.snapshotsDir, { recursive: true });
  const temp = snapshotTempDir(paths, tag);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  return { tag, final, temp };
}

/** Describes the files in the temp directory; small state files are hashed, RAM files (GiBs) are not. */
export function describeSnapshotFiles(pending: PendingSnapshot, names: { name: string; role: StateFile["role"] }[]): Promise<StateFile[]> {
  return describeStateFiles(pending.temp, names);
}

/** The same for the files of any state directory (an import's snapshot, say): flushed, sized, hashed but for RAM. */
export async function describeStateFiles(dir: string, names: { name: string; role: StateFile["role"] }[]): Promise<StateFile[]> {
  return Promise.all(
    names.map(async ({ name, role }) => {
      const path = join(dir, name);
      await fsyncFile(path);
      const sizes = await fileSizes(path);
      return {
        name,
        role,
        sizeBytes: sizes.apparentBytes,
        allocatedBytes: sizes.allocatedBytes,
        ...(role === "memory" ? {} : { sha256: await sha256File(path) }),
      };
    }),
  );
}

/** Writes the manifest and renames the directory into place: from here on the snapshot exists. */
export async function commitSnapshot(pending: PendingSnapshot, manifest: StateManifest): Promise<void> {
  await writeJsonAtomic(join(pending.temp, MANIFEST_NAME), manifest);
  await fsyncDirectory(pending.temp);
  await rename(pending.temp, pending.final.dir);
  await fsyncDirectory(join(pending.final.dir, ".."));
}

export async function abandonSnapshot(pending: PendingSnapshot): Promise<void> {
  await rm(pending.temp, { recursive: true, force: true });
}
