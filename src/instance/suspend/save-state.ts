import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { SaveFigures } from "../../api/schemas.ts";
import { driver, type RunningVm } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import type { StateFile } from "../../snapshot/manifest.ts";
import { LIVE_MEMORY_REF, MANIFEST_NAME, STATE_FILE_NAMES, suspendTempDir } from "../../paths/index.ts";
import { buildManifest } from "../../snapshot/build-manifest.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";
import { fileSizes, sha256File } from "../../util/file-facts.ts";
import { fdatasyncFile, fsyncDirectory, fsyncFile } from "../../util/fsync.ts";
import { faultPoint, faultWait } from "../../util/fault-point.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";

/**
 * Suspends a running VM to disk. The guest is paused from `stop` until the state is durable.
 *   1. (file RAM) fsync the RAM file while the guest still runs, so little is left to flush paused;
 *      set the migration capabilities, so the pause does not wait on them either.
 *   2. stop; save device state (file RAM: x-ignore-shared, the RAM file is the memory) or the whole
 *      RAM (anonymous: mapped-ram + multifd into a sparse file); fsync everything. The RAM file is
 *      flushed while QEMU writes the device state: a stopped guest no longer changes it.
 *   3. write the manifest, rename the temp directory to suspend/, fsync the instance directory.
 * Undo on any failure before the rename: remove the temp directory and resume the guest.
 * The caller quits QEMU afterwards; the VM must not run on after its state was saved.
 */
export async function saveSuspendState(vm: RunningVm, launch: PinnedLaunch, paths: InstancePaths, baseTimeoutMs: number): Promise<SaveFigures> {
  const started = performance.now();
  const temp = suspendTempDir(paths);
  const layout = driver.state.layoutOf(launch);
  const fileBacked = layout === "device-state";
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  let pausedAt: number | undefined;
  try {
    if (fileBacked) await fdatasyncFile(paths.memory);
    await driver.state.prepareSave(vm, layout);
    pausedAt = performance.now();
    await vm.pause();
    faultPoint("save:after-stop");
    await faultWait("save:after-stop");
    const ramFlushed = fileBacked ? fdatasyncFile(paths.memory) : Promise.resolve();
    ramFlushed.catch(() => undefined);
    const stateFile = join(temp, fileBacked ? STATE_FILE_NAMES.deviceState : STATE_FILE_NAMES.memoryStream);
    // A full-RAM save (anonymous backing) is given time for its size at a slow 50 MiB/s.
    await driver.state.save(vm, stateFile, layout, baseTimeoutMs + (vm.spec.memoryBytes / (50 * 1024 * 1024)) * 1000);
    await Promise.all([fsyncFile(stateFile), ramFlushed]);
    const pauseMs = performance.now() - pausedAt;

    const files = await describeFiles(temp, fileBacked, paths);
    const manifest = buildManifest({ kind: "suspend", launch, files, pauseMs });
    await writeJsonAtomic(join(temp, MANIFEST_NAME), manifest);
    faultPoint("save:before-rename");
    await rm(paths.suspendDir, { recursive: true, force: true });
    await rename(temp, paths.suspendDir);
    await fsyncDirectory(paths.dir);
    faultPoint("save:after-rename");
    const stateBytes = files.reduce((sum, f) => sum + f.allocatedBytes, 0);
    return { pauseMs, totalMs: performance.now() - started, stateBytes };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (pausedAt !== undefined) await vm.resume().catch(() => undefined);
    throw new SnapvmError(ErrorCode.SaveFailed, `instance "${vm.spec.name}": saving its state failed; the guest was resumed`, {
      cause: error,
      hint: "See the agent log for QEMU's reason.",
      details: { instance: vm.spec.name, reason: error instanceof Error ? error.message : String(error) },
    });
  }
}

async function describeFiles(temp: string, fileBacked: boolean, paths: InstancePaths): Promise<StateFile[]> {
  const files: StateFile[] = [];
  const stateName = fileBacked ? STATE_FILE_NAMES.deviceState : STATE_FILE_NAMES.memoryStream;
  const stateSizes = await fileSizes(join(temp, stateName));
  files.push({
    name: stateName,
    role: fileBacked ? "device-state" : "memory-stream",
    sizeBytes: stateSizes.apparentBytes,
    allocatedBytes: stateSizes.allocatedBytes,
    sha256: await sha256File(join(temp, stateName)),
  });
  if (fileBacked) {
    // The live RAM file is as large as the guest; hashing it would cost seconds on every stop.
    const ram = await fileSizes(paths.memory);
    files.push({ name: LIVE_MEMORY_REF, role: "memory", sizeBytes: ram.apparentBytes, allocatedBytes: ram.allocatedBytes, mtimeMs: ram.mtimeMs });
  }
  return files;
}
