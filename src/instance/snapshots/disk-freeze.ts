import { rm } from "node:fs/promises";
import { driver, type ActiveDisk, type RunningVm } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { diskLayerPath, type InstancePaths } from "../../paths/index.ts";
import { failPoint, faultPoint } from "../../util/fault-point.ts";
import { activeLayer, layerIdOf, newLayerId, pointDiskAt } from "../disk/layers.ts";

/** The disk half of a live snapshot: the current top layer freezes, writes go to a new one from the switch on. */
export interface DiskFreeze {
  /** The layer that stops changing at the switch (the snapshot's disk). */
  frozen: string;
  disk: ActiveDisk;
  /** Run with the guest paused: switches writes to the new top and points disk.qcow2 at it (~8 ms). */
  switchLeg: () => Promise<void>;
  /** After a failure: removes the new top unless the switch happened (then the guest writes to it, and it stays). */
  undo: () => Promise<void>;
}

/**
 * Makes the new top layer while the guest runs, so the pause holds only the switch itself. With
 * `expected`, a top layer of another id (another snapshot came first) is refused before anything is made.
 */
export async function prepareDiskFreeze(vm: RunningVm, paths: InstancePaths, expected?: string): Promise<DiskFreeze> {
  const frozen = await activeLayer(paths);
  if (expected !== undefined && layerIdOf(frozen) !== expected) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `the disk's top layer is ${layerIdOf(frozen)}, not ${expected}: another snapshot was taken meanwhile`, {
      hint: "Run the command again.",
    });
  }
  const newTop = diskLayerPath(paths, newLayerId());
  const disk = await driver.snapshots.activeDisk(vm);
  let switched = false;
  await driver.disks.createOverlay(newTop, frozen, disk.virtualSize, true);
  return {
    frozen,
    disk,
    switchLeg: async () => {
      await failPoint("snapshot:disk-leg");
      await driver.snapshots.switchDisk(vm, disk, newTop, `disk-${layerIdOf(newTop)}`);
      switched = true;
      faultPoint("snapshot:disk-switched");
      await pointDiskAt(paths, newTop, false);
    },
    undo: async () => {
      if (!switched) await rm(newTop, { force: true });
    },
  };
}
