import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { diskLayerPath, type InstancePaths } from "../paths/index.ts";
import { fsyncDirectory } from "../util/fsync.ts";

/**
 * The disk is a qcow2 chain: `disk.qcow2` (written by the guest) on top of frozen layers in disks/.
 * A disk snapshot freezes the top: a new overlay (disk.next.qcow2, whose header already names the
 * frozen layer's final path) is put on top, then two renames move the old top to disks/ID.qcow2 and
 * the overlay to disk.qcow2. Backing paths are absolute, so moving a file never breaks a chain.
 */
export function newLayerId(): string {
  return randomUUID().slice(0, 13);
}

export async function prepareLayerDir(paths: InstancePaths): Promise<void> {
  await mkdir(paths.disksDir, { recursive: true });
}

/** The two renames, after the new overlay is in use (or, offline, created). */
export async function commitLayerSwap(paths: InstancePaths, layer: string): Promise<void> {
  await rename(paths.disk, diskLayerPath(paths, layer));
  await rename(paths.nextDisk, paths.disk);
  await fsyncDirectory(paths.disksDir);
  await fsyncDirectory(paths.dir);
}

/**
 * Finishes a swap a crash interrupted between its two renames: disk.qcow2 is gone and
 * disk.next.qcow2 (already on top of the frozen layer) takes its place. Idempotent.
 */
export async function recoverLayerSwap(paths: InstancePaths): Promise<boolean> {
  if (existsSync(paths.disk) || !existsSync(paths.nextDisk)) return false;
  await rename(paths.nextDisk, paths.disk);
  await fsyncDirectory(paths.dir);
  return true;
}
