import { randomUUID } from "node:crypto";
import { lstat, mkdir, readdir, realpath, rename, rm, symlink } from "node:fs/promises";
import { driver } from "../../driver/index.ts";
import { basename, join, relative } from "node:path";
import { isErrno } from "../../errors/index.ts";
import { diskLayerPath, diskLinkTempPath, type InstancePaths } from "../../paths/index.ts";
import { fsyncDirectory } from "../../util/fsync.ts";
import { snapshotLayers } from "./snapshot-layers.ts";

/**
 * The disk is a qcow2 chain whose files never move once QEMU may have opened them: every layer lives
 * in disks/ under a fixed name, and `disk.qcow2` is a symlink to the top one. A disk snapshot adds a
 * layer on top and repoints the link; the layer below is frozen from then on.
 * (Renaming open layers instead broke QEMU's re-activation after a migration: the name in the
 * overlay's header no longer matched the open backing node, and `cont` failed to take the lock.)
 */
export function newLayerId(): string {
  return randomUUID().slice(0, 13);
}

export function layerIdOf(path: string): string {
  return basename(path, ".qcow2");
}

/** The real path of the current top layer. */
export async function activeLayer(paths: InstancePaths): Promise<string> {
  return realpath(paths.disk);
}

/** Atomically points disk.qcow2 at a layer (a relative link, so the instance directory can move). */
export async function pointDiskAt(paths: InstancePaths, layerPath: string, durable = true): Promise<void> {
  const temp = diskLinkTempPath(paths);
  await rm(temp, { force: true });
  await symlink(relative(paths.dir, layerPath), temp);
  await rename(temp, paths.disk);
  if (durable) await fsyncDirectory(paths.dir);
}

/**
 * Instances made before layers existed have a plain disk.qcow2: move it into disks/ and link it.
 * Only while no QEMU has the disk open (the caller holds the instance lock, before starting QEMU).
 */
export async function ensureLayeredDisk(paths: InstancePaths): Promise<void> {
  await mkdir(paths.disksDir, { recursive: true, mode: 0o700 });
  try {
    if ((await lstat(paths.disk)).isSymbolicLink()) return;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return;
    throw error;
  }
  const layer = diskLayerPath(paths, newLayerId());
  await rename(paths.disk, layer);
  await pointDiskAt(paths, layer);
}

/** Layers of this instance (disks/*.qcow2) whose header names `layer` as their backing file. */
export async function layersAbove(paths: InstancePaths, layer: string): Promise<string[]> {
  const above: string[] = [];
  for (const entry of await readdir(paths.disksDir)) {
    const candidate = join(paths.disksDir, entry);
    if (candidate !== layer && (await driver.disks.facts(candidate)).backingFile === layer) above.push(candidate);
  }
  return above;
}

/**
 * Removes a layer that is no longer the top, no snapshot's layer, and no layer's backing: the disk
 * state a snapshot restore went back from.
 */
export async function dropIfUnused(paths: InstancePaths, layer: string): Promise<boolean> {
  if (layer === (await activeLayer(paths))) return false;
  if ((await snapshotLayers(paths)).has(layerIdOf(layer))) return false;
  if ((await layersAbove(paths, layer)).length > 0) return false;
  await rm(layer, { force: true });
  return true;
}
