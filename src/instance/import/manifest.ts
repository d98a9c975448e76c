import { join } from "node:path";
import type { InstancePaths } from "../../paths/index.ts";
import { type StateFile } from "../../snapshot/manifest.ts";
import { LIVE_MEMORY_REF, MANIFEST_NAME, STATE_FILE_NAMES } from "../../paths/index.ts";
import { buildManifest } from "../../snapshot/build-manifest.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";
import { fileSizes, sha256File } from "../../util/file-facts.ts";
import { fsyncDirectory, fsyncFile } from "../../util/fsync.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";

/**
 * Writes the manifest of an imported suspend state, the same shape saveSuspendState writes for a
 * file-backed instance (docs/snapshot-format.md): devices.state hashed, the instance's memory.ram
 * listed by size and mtime. `paths` is the instance being built (its temp directory); the RAM file
 * MUST be final (holes dug, fsynced) before this is called, since its size and mtime are recorded.
 */
export async function writeImportedManifest(paths: InstancePaths, launch: PinnedLaunch): Promise<StateFile[]> {
  const deviceState = join(paths.suspendDir, STATE_FILE_NAMES.deviceState);
  await fsyncFile(deviceState);
  const state = await fileSizes(deviceState);
  const ram = await fileSizes(paths.memory);
  const files: StateFile[] = [
    {
      name: STATE_FILE_NAMES.deviceState,
      role: "device-state",
      sizeBytes: state.apparentBytes,
      allocatedBytes: state.allocatedBytes,
      sha256: await sha256File(deviceState),
    },
    { name: LIVE_MEMORY_REF, role: "memory", sizeBytes: ram.apparentBytes, allocatedBytes: ram.allocatedBytes, mtimeMs: ram.mtimeMs },
  ];
  // The guest was paused by whoever wrote the stream; snapvm never paused it.
  const manifest = buildManifest({ kind: "suspend", launch, files, pauseMs: 0 });
  await writeJsonAtomic(join(paths.suspendDir, MANIFEST_NAME), manifest);
  await fsyncDirectory(paths.suspendDir);
  return files;
}
