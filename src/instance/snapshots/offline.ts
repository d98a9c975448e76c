import { existsSync } from "node:fs";
import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { STATE_FILE_NAMES, diskLayerPath, type InstancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { readManifest } from "../../snapshot/read-manifest.ts";
import { copySparse, type CopyMethod } from "../../util/sparse-copy.ts";
import { activeLayer, ensureLayeredDisk, layerIdOf, newLayerId, pointDiskAt } from "../disk/layers.ts";
import { readPinnedLaunch } from "../boot/pinned-boot.ts";
import type { SnapshotFigures } from "./live.ts";
import { latestSnapshotTag } from "./list.ts";
import { abandonSnapshot, beginSnapshot, commitSnapshot, describeSnapshotFiles } from "../../snapshot/write.ts";
import { buildManifest } from "../../snapshot/build-manifest.ts";

/**
 * Snapshot of an instance no agent runs. A suspended one keeps its memory: the snapshot copies the
 * suspend state (RAM file and device state); a shut-down one is disk only, and restoring it cold boots.
 * The caller holds the instance lock, so nothing starts meanwhile.
 */
export async function takeOfflineSnapshot(name: InstanceName, paths: InstancePaths, tag: SnapshotTag): Promise<SnapshotFigures> {
  const started = performance.now();
  if (!existsSync(paths.bootLaunch)) {
    throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${name}" has never booted; there is nothing to snapshot`, {
      hint: `Start it first with \`snapvm start ${name}\`.`,
    });
  }
  const pending = await beginSnapshot(paths, tag);
  await ensureLayeredDisk(paths);
  const newTop = diskLayerPath(paths, newLayerId());
  let pointed = false;
  try {
    const suspended = existsSync(paths.suspendDir) ? await readManifest(paths.suspendDir) : undefined;
    let memoryCopy: CopyMethod | "none" = "none";
    const names: Parameters<typeof describeSnapshotFiles>[1] = [];
    if (suspended !== undefined) {
      if (suspended.files.some((f) => f.role === "device-state")) {
        memoryCopy = await copySparse(paths.memory, join(pending.temp, STATE_FILE_NAMES.memory));
        await copyFile(join(paths.suspendDir, STATE_FILE_NAMES.deviceState), join(pending.temp, STATE_FILE_NAMES.deviceState));
        names.push({ name: STATE_FILE_NAMES.memory, role: "memory" }, { name: STATE_FILE_NAMES.deviceState, role: "device-state" });
      } else {
        memoryCopy = await copySparse(join(paths.suspendDir, STATE_FILE_NAMES.memoryStream), join(pending.temp, STATE_FILE_NAMES.memoryStream));
        names.push({ name: STATE_FILE_NAMES.memoryStream, role: "memory-stream" });
      }
    }
    const frozen = await activeLayer(paths);
    await driver.disks.createOverlay(newTop, frozen, (await driver.disks.facts(frozen)).virtualSize);
    const files = await describeSnapshotFiles(pending, names);
    // Before the snapshot exists: once it does, its layer must never be written again.
    await pointDiskAt(paths, newTop);
    pointed = true;
    await commitSnapshot(
      pending,
      buildManifest({
        kind: "snapshot",
        launch: suspended?.launch ?? (await readPinnedLaunch(paths)),
        files,
        pauseMs: 0,
        parent: await latestSnapshotTag(paths),
        snapshot: { tag, diskLayer: layerIdOf(frozen), hasMemory: suspended !== undefined, live: false, memoryCopy },
      }),
    );
    return { tag, pauseMs: 0, totalMs: performance.now() - started, memoryCopy, allocatedBytes: files.reduce((sum, f) => sum + f.allocatedBytes, 0) };
  } catch (error) {
    if (!pointed) await rm(newTop, { force: true });
    await abandonSnapshot(pending);
    throw error;
  }
}
