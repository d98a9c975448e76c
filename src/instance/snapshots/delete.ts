import { rm } from "node:fs/promises";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { diskLayerPath, instancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { layersAbove } from "../disk/layers.ts";
import { acquireLock, lockOwner } from "../../store/lock.ts";
import { snapshotDetails } from "./list.ts";

export interface SnapshotDeleteResult {
  instance: string;
  tag: string;
  /** What happened to the snapshot's disk layer. */
  diskLayer: "removed" | "merged" | "kept";
  /** Images that were rebased past the removed layer (they now hold its data themselves). */
  merged: string[];
}

/**
 * `snapvm snapshot delete NAME TAG`. Refused while a fork depends on it (its disk and memory are the
 * fork's base). The disk chain stays whole: images above the snapshot's layer are rebased onto the
 * layer below (copying what they need) and the layer removed. While the VM runs, its whole chain is
 * open in QEMU and cannot be rewritten: a layer something depends on is then kept (still in the chain,
 * no longer a snapshot) while the snapshot's memory and manifest are removed.
 */
export async function deleteSnapshot(name: InstanceName, tag: SnapshotTag, home?: string): Promise<SnapshotDeleteResult> {
  const details = await snapshotDetails(name, tag, home);
  if (details.forks.length > 0) {
    throw new SnapvmError(
      ErrorCode.InvalidTransition,
      `snapshot "${tag}" of "${name}" is the base of ${details.forks.length === 1 ? "fork" : "forks"} ${details.forks.map((f) => `"${f}"`).join(", ")}`,
      {
        hint: `Delete ${details.forks.length === 1 ? "that fork" : "those forks"} first.`,
        details: { instance: name, tag, forks: details.forks },
      },
    );
  }
  const paths = instancePaths(name, home);
  const running = (await lockOwner(paths.agentLock)) !== undefined;
  const lock = running ? undefined : await acquireLock(paths.agentLock, name);
  try {
    const layer = diskLayerPath(paths, details.diskLayer);
    const dependents = await layersAbove(paths, layer);
    await rm(details.dir, { recursive: true, force: true });
    // Every layer under the running disk is open in QEMU, which forbids rewriting it: keep it for now.
    if (running && dependents.length > 0) return { instance: name, tag, diskLayer: "kept", merged: [] };
    const below = (await driver.disks.facts(layer)).backingFile;
    for (const image of dependents) await driver.disks.rebase(image, below);
    await rm(layer, { force: true });
    return { instance: name, tag, diskLayer: dependents.length > 0 ? "merged" : "removed", merged: dependents };
  } finally {
    await lock?.release();
  }
}
