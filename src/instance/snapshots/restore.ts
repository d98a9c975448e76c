import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { driver } from "../../driver/index.ts";
import {
  LIVE_MEMORY_REF,
  MANIFEST_NAME,
  diskLayerPath,
  suspendTempDir,
  instancePaths,
  type InstancePaths,
  type InstanceName,
  type SnapshotTag,
} from "../../paths/index.ts";
import { type StateManifest } from "../../snapshot/manifest.ts";
import { acquireLock } from "../../store/lock.ts";
import { cleanUpUnderLock } from "../lifecycle/crash-hygiene.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";
import { fsyncDirectory } from "../../util/fsync.ts";
import { copySparse } from "../../util/sparse-copy.ts";
import { activeLayer, dropIfUnused, ensureLayeredDisk, newLayerId, pointDiskAt } from "../disk/layers.ts";
import { decompressSnapshot } from "./compress.ts";
import { snapshotDetails } from "./list.ts";
import { startInstance, type StartHooks, type StartResult } from "../lifecycle/start.ts";
import { stopInstance } from "../lifecycle/stop.ts";

export interface SnapshotRestoreResult {
  instance: string;
  tag: string;
  /** Set when the instance was running: it was started again from the snapshot. */
  started?: StartResult;
}

/**
 * Turns the snapshot into the instance's next boot: a fresh disk overlay on the snapshot's layer,
 * the snapshot's RAM file, and a suspend state holding its device state. The current disk top and
 * memory are discarded (that is what going back means). Without memory, the next start cold boots.
 */
async function stageSnapshot(paths: InstancePaths, manifest: StateManifest, snapshotDir: string): Promise<void> {
  const facts = manifest.snapshot;
  if (facts === undefined) throw new Error("stageSnapshot needs a snapshot manifest");
  await ensureLayeredDisk(paths);
  const layer = diskLayerPath(paths, facts.diskLayer);
  const discarded = await activeLayer(paths);
  const newTop = diskLayerPath(paths, newLayerId());
  await driver.disks.createOverlay(newTop, layer, (await driver.disks.facts(layer)).virtualSize);
  await pointDiskAt(paths, newTop);
  await dropIfUnused(paths, discarded);
  await rm(paths.suspendDir, { recursive: true, force: true });
  await rm(paths.memory, { force: true });
  if (!facts.hasMemory) return;
  const temp = suspendTempDir(paths);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  for (const file of manifest.files) {
    if (file.role === "memory") await copySparse(join(snapshotDir, file.name), paths.memory);
    else if (file.role === "memory-stream") await copySparse(join(snapshotDir, file.name), join(temp, file.name));
    else await copyFile(join(snapshotDir, file.name), join(temp, file.name));
  }
  const suspend: StateManifest = {
    ...manifest,
    kind: "suspend",
    files: manifest.files.map((f) => (f.role === "memory" ? { ...f, name: LIVE_MEMORY_REF } : f)),
  };
  delete suspend.snapshot;
  await writeJsonAtomic(join(temp, MANIFEST_NAME), suspend);
  await rename(temp, paths.suspendDir);
  await fsyncDirectory(paths.dir);
}

/** `snapvm snapshot restore NAME TAG`: memory and disk go back; a running instance comes back running. */
export async function restoreSnapshot(name: InstanceName, tag: SnapshotTag, hooks: StartHooks = {}): Promise<SnapshotRestoreResult> {
  let details = await snapshotDetails(name, tag, hooks.home);
  if (details.compressed) {
    // Decompressed in place, once (it stays so); refused with the space needed when the disk is short.
    hooks.onProgress?.("decompressing the snapshot");
    await decompressSnapshot(name, tag, hooks.home === undefined ? {} : { home: hooks.home });
    details = await snapshotDetails(name, tag, hooks.home);
  }
  const current = await inspectInstance(name, hooks.home);
  const wasRunning = current.agentPid !== undefined;
  if (wasRunning) await stopInstance(name, "force", hooks.home, hooks.onProgress);
  const paths = instancePaths(name, hooks.home);
  const lock = await acquireLock(paths.agentLock, name);
  try {
    await cleanUpUnderLock(paths, "kill"); // the snapshot replaces what ran, even a dead agent's QEMU
    await stageSnapshot(paths, details.manifest, details.dir);
  } finally {
    await lock.release();
  }
  if (!wasRunning) return { instance: name, tag };
  return { instance: name, tag, started: await startInstance(name, hooks) };
}
