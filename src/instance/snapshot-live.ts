import { rm } from "node:fs/promises";
import { join } from "node:path";
import { activeDisk, switchToOverlay } from "../driver/qemu/block.ts";
import { migrateOut } from "../driver/qemu/migrate.ts";
import { createOverlay } from "../driver/qemu/qemu-img.ts";
import type { QemuVm } from "../driver/qemu/vm.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { diskLayerPath, type InstancePaths } from "../paths/index.ts";
import { copySparse, type CopyMethod } from "../util/sparse-copy.ts";
import { fsyncFile } from "../util/fsync.ts";
import { failPoint } from "../util/fault-point.ts";
import { activeLayer, layerIdOf, newLayerId, pointDiskAt } from "./disk-layers.ts";
import { fsyncDirectory } from "../util/fsync.ts";
import { ownsRamFile, type PinnedLaunch } from "./pinned-boot.ts";
import { DEVICE_STATE_FILE, MEMORY_STREAM_FILE } from "./save.ts";
import { abandonSnapshot, beginSnapshot, commitSnapshot, describeSnapshotFiles, snapshotManifest } from "./snapshot-write.ts";
import { latestSnapshotTag } from "./snapshot-list.ts";

export interface SnapshotFigures {
  tag: string;
  /** From `stop` to `cont`: how long the guest was frozen. */
  pauseMs: number;
  totalMs: number;
  memoryCopy: CopyMethod | "none";
  allocatedBytes: number;
}

/**
 * Snapshot of a running VM: disk and memory as of one instant, with the guest paused as briefly as
 * the filesystem allows.
 *   Before the pause: make the new disk overlay; fsync the RAM file, so a reflink has nothing to
 *   wait for (14–17 ms pause on XFS vs 0.12–0.19 s without, DESIGN.md §3a).
 *   Paused, two legs at once: the disk leg switches writes to a new top layer (~8 ms) and points
 *   disk.qcow2 at it, freezing the layer below as the snapshot's; the memory leg
 *   reflinks or sparse-copies the RAM file. Both are awaited even when one fails, so nothing is
 *   removed under a leg still writing. Then the device state (x-ignore-shared), then `cont`.
 * On any failure the guest is resumed and the temp directory removed; a disk leg that completed
 * keeps its layer in the chain (the disk stays whole; the frozen layer is simply not a snapshot).
 */
export async function takeLiveSnapshot(vm: QemuVm, launch: PinnedLaunch, paths: InstancePaths, tag: string, timeoutMs: number): Promise<SnapshotFigures> {
  const started = performance.now();
  const frozen = await activeLayer(paths);
  const parent = await latestSnapshotTag(paths);
  const pending = await beginSnapshot(paths, tag);
  const newTop = diskLayerPath(paths, newLayerId());
  const ownsRam = ownsRamFile(launch);
  let diskSwitched = false;
  const fail = async (error: unknown): Promise<never> => {
    // A completed disk leg stays: the guest writes to the new top now, and the link points at it.
    if (!diskSwitched) await rm(newTop, { force: true });
    await abandonSnapshot(pending);
    throw new SnapvmError(ErrorCode.SaveFailed, `instance "${vm.spec.name}": snapshot "${tag}" failed; the guest was resumed and no snapshot was written`, {
      cause: error,
      details: { instance: vm.spec.name, tag, reason: error instanceof Error ? error.message : String(error) },
    });
  };
  const disk = await activeDisk(vm.qmp).catch(fail);
  await createOverlay(newTop, frozen, disk.virtualSize, true).catch(fail);
  if (ownsRam) await fsyncFile(paths.memory).catch(fail);

  const pausedAt = performance.now();
  let resumedAt: number;
  let memoryCopy: CopyMethod | "none";
  try {
    await vm.qmp.execute("stop");
    const [diskLeg, memoryLeg] = await Promise.allSettled([
      failPoint("snapshot:disk-leg")
        .then(() => switchToOverlay(vm.qmp, disk, newTop, `disk-${layerIdOf(newTop)}`))
        .then(async () => { diskSwitched = true; await pointDiskAt(paths, newTop, false); }),
      ownsRam ? copySparse(paths.memory, join(pending.temp, "memory.ram")).then(async (method) => { await failPoint("snapshot:memory-leg"); return method; }) : Promise.resolve("none" as const),
    ]);
    if (diskLeg.status === "rejected") throw diskLeg.reason;
    if (memoryLeg.status === "rejected") throw memoryLeg.reason;
    memoryCopy = memoryLeg.value;
    await migrateOut(vm.qmp, `file:${join(pending.temp, ownsRam ? DEVICE_STATE_FILE : MEMORY_STREAM_FILE)}`, {
      capabilities: ownsRam ? ["x-ignore-shared"] : ["mapped-ram", "multifd"],
      timeoutMs,
    });
    await vm.qmp.execute("cont");
    resumedAt = performance.now();
  } catch (error) {
    await vm.qmp.execute("cont").catch(() => undefined);
    return fail(error);
  }
  const pauseMs = resumedAt - pausedAt;
  await fsyncDirectory(paths.dir);
  const files = await describeSnapshotFiles(pending, ownsRam
    ? [{ name: "memory.ram", role: "memory" }, { name: DEVICE_STATE_FILE, role: "device-state" }]
    : [{ name: MEMORY_STREAM_FILE, role: "memory-stream" }]);
  await commitSnapshot(pending, snapshotManifest({
    launch,
    files,
    pauseMs,
    parent,
    snapshot: { tag, diskLayer: layerIdOf(frozen), hasMemory: true, live: true, memoryCopy },
  }));
  return { tag, pauseMs, totalMs: performance.now() - started, memoryCopy, allocatedBytes: files.reduce((sum, f) => sum + f.allocatedBytes, 0) };
}
