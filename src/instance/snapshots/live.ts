import { join } from "node:path";
import { driver, type RunningVm } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { STATE_FILE_NAMES, type InstancePaths, type SnapshotTag } from "../../paths/index.ts";
import { copySparse, type CopyMethod } from "../../util/sparse-copy.ts";
import { fsyncFile } from "../../util/fsync.ts";
import { failPoint, faultPoint } from "../../util/fault-point.ts";
import { layerIdOf } from "../disk/layers.ts";
import { prepareDiskFreeze, type DiskFreeze } from "./disk-freeze.ts";
import { fsyncDirectory } from "../../util/fsync.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";
import { abandonSnapshot, beginSnapshot, commitSnapshot, describeSnapshotFiles } from "../../snapshot/write.ts";
import { buildManifest } from "../../snapshot/build-manifest.ts";
import { latestSnapshotTag } from "./list.ts";

export type MemoryCopy = CopyMethod | "precopy" | "none";

export interface SnapshotFigures {
  tag: string;
  /** From `stop` to `cont`: how long the guest was frozen. */
  pauseMs: number;
  totalMs: number;
  memoryCopy: MemoryCopy;
  allocatedBytes: number;
}

/**
 * Snapshot of a running VM: disk and memory as of one instant, with the guest paused as briefly as
 * the filesystem allows. Before the pause the new disk layer is made. Then, by filesystem:
 *   - reflink (XFS, btrfs), file-backed RAM: fsync the RAM file while the guest runs; pause; two legs
 *     at once — the disk leg switches writes to the new top layer (~8 ms) and points disk.qcow2 at
 *     it, the memory leg reflinks the RAM file; both are awaited even when one fails, so nothing is
 *     removed under a leg still writing; device state (x-ignore-shared); `cont`. 14–17 ms measured.
 *   - anything else (ext4, anonymous RAM): pre-copy into a second QEMU (driver.snapshots.captureMemory); the
 *     guest pauses for the last dirty pages and the disk leg only.
 * On any failure the guest is resumed and the temp directory removed; a disk leg that completed
 * keeps its layer in the chain (the disk stays whole; the frozen layer is simply not a snapshot).
 */
export async function takeLiveSnapshot(
  vm: RunningVm,
  launch: PinnedLaunch,
  paths: InstancePaths,
  tag: SnapshotTag,
  timeoutMs: number,
): Promise<SnapshotFigures> {
  const started = performance.now();
  const parent = await latestSnapshotTag(paths);
  const pending = await beginSnapshot(paths, tag);
  const ownsRam = driver.state.layoutOf(launch) === "device-state";
  const abandon = async (error: unknown, freeze?: DiskFreeze): Promise<never> => {
    // A completed disk leg stays: the guest writes to the new top now, and the link points at it.
    await freeze?.undo();
    await abandonSnapshot(pending);
    throw new SnapvmError(ErrorCode.SaveFailed, `instance "${vm.spec.name}": snapshot "${tag}" failed; the guest was resumed and no snapshot was written`, {
      cause: error,
      details: { instance: vm.spec.name, tag, reason: error instanceof Error ? error.message : String(error) },
    });
  };
  faultPoint("snapshot:before-pause");
  const freeze = await prepareDiskFreeze(vm, paths).catch((error: unknown) => abandon(error));
  const fail = (error: unknown): Promise<never> => abandon(error, freeze);
  const { frozen } = freeze;
  const diskLeg = freeze.switchLeg;
  // Reflink the RAM file while paused where the filesystem can (tens of ms); anywhere else, copy
  // memory by pre-copy migration so the guest pauses only for the last dirty pages.
  const reflink = ownsRam && (await driver.host.reflink(paths.dir));
  // Flushed while the guest runs, so the reflink has no dirty pages to wait for (DESIGN.md §3a).
  if (reflink) await fsyncFile(paths.memory).catch(fail);
  let pauseMs: number;
  let memoryCopy: MemoryCopy;
  if (reflink) {
    const pausedAt = performance.now();
    try {
      await vm.pause();
      const [diskDone, memoryDone] = await Promise.allSettled([
        diskLeg(),
        copySparse(paths.memory, join(pending.temp, STATE_FILE_NAMES.memory)).then(async (method) => {
          await failPoint("snapshot:memory-leg");
          return method;
        }),
      ]);
      if (diskDone.status === "rejected") throw diskDone.reason;
      if (memoryDone.status === "rejected") throw memoryDone.reason;
      memoryCopy = memoryDone.value;
      await driver.state.saveDeviceState(vm, join(pending.temp, STATE_FILE_NAMES.deviceState), timeoutMs);
      await vm.resume();
      pauseMs = performance.now() - pausedAt;
    } catch (error) {
      await vm.resume().catch(() => undefined);
      return fail(error);
    }
  } else {
    memoryCopy = "precopy";
    pauseMs = await driver.snapshots
      .captureMemory(
        vm,
        launch,
        { memory: join(pending.temp, STATE_FILE_NAMES.memory), deviceState: join(pending.temp, STATE_FILE_NAMES.deviceState) },
        diskLeg,
        timeoutMs,
      )
      .catch(fail);
  }
  await fsyncDirectory(paths.dir);
  const files = await describeSnapshotFiles(pending, [
    { name: STATE_FILE_NAMES.memory, role: "memory" },
    { name: STATE_FILE_NAMES.deviceState, role: "device-state" },
  ]);
  await commitSnapshot(
    pending,
    buildManifest({
      kind: "snapshot",
      launch,
      files,
      pauseMs,
      parent,
      snapshot: { tag, diskLayer: layerIdOf(frozen), hasMemory: true, live: true, memoryCopy },
    }),
  );
  return { tag, pauseMs, totalMs: performance.now() - started, memoryCopy, allocatedBytes: files.reduce((sum, f) => sum + f.allocatedBytes, 0) };
}
