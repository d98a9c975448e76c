import { mkdtemp, rm, stat } from "node:fs/promises";
import { scratchDirPrefix } from "../../paths/index.ts";
import { basename } from "node:path";
import type { BundleManifest } from "../../bundle/format.ts";
import { relocateSockets, type LaunchSpec } from "../../config/launch-spec.ts";
import { driver } from "../../driver/index.ts";
import { instanceDirPaths, instanceSockets, stateDirPaths } from "../../paths/index.ts";
import type { StateFile } from "../../snapshot/manifest.ts";
import { describeStateFiles } from "../../snapshot/write.ts";
import { digHoles } from "../../util/dig-holes.ts";

export interface LoadedStream {
  files: StateFile[];
  notes: string[];
  loadMs: number;
}

/**
 * A live offload's bundle carries the guest's state as one migration stream (`memory.state`): it is
 * loaded into a frozen QEMU whose RAM is the snapshot's own `memory.ram`, which then saves the device
 * state alone, so the imported snapshot restores and forks in O(device state) like any other
 * (DESIGN.md §3a, the path import-state takes). The converting QEMU gets a blank scratch disk of the
 * same size: it never runs the guest, and the stream holds no disk data. The stream is removed after.
 */
export async function loadStreamIntoSnapshot(spec: LaunchSpec, tagDir: string, diskVirtualSize: number): Promise<LoadedStream> {
  const files = stateDirPaths(tagDir);
  const scratchDir = await mkdtemp(scratchDirPrefix("import"));
  try {
    const scratch = instanceDirPaths(scratchDir);
    await driver.disks.create(scratch.disk, diskVirtualSize);
    const figures = await driver.state.convertStream({
      spec: relocateSockets({ ...spec, memoryBacking: "file", memoryPath: files.memory, disk: scratch.disk, ports: [] }, instanceSockets(scratch)),
      rawStream: files.memoryStream,
      streamBytes: (await stat(files.memoryStream)).size,
      layout: { mappedRam: false },
      deviceStateFile: files.deviceState,
    });
    const notes: string[] = [];
    await digHoles(files.memory, notes);
    await rm(files.memoryStream);
    return {
      files: await describeStateFiles(tagDir, [
        { name: basename(files.memory), role: "memory" },
        { name: basename(files.deviceState), role: "device-state" },
      ]),
      notes,
      loadMs: figures.loadMs,
    };
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/** A live offload's bundle: its state is a stream to load on import (not a snapshot's own files). */
export function carriesLiveStream(manifest: BundleManifest): boolean {
  return manifest.files.some((f) => f.role === "memory-stream" && f.streamed === true);
}
