import { mkdir, symlink } from "node:fs/promises";
import { relative } from "node:path";
import { driver } from "../../driver/index.ts";
import { isSnapvmError, ErrorCode, SnapvmError } from "../../errors/index.ts";
import { diskLayerPath, type InstancePaths } from "../../paths/index.ts";
import { newLayerId } from "../disk/layers.ts";

/**
 * Copies the source VM's disk into the new instance's first layer, flattening its chain, and links
 * disk.qcow2 to it (disk/layers.ts); returns the layer's path. The stream's guest caches what it read
 * from this disk, so it MUST be the disk as it was when the stream was saved; a disk a VMM still
 * writes is refused by its image lock rather than copied while it moves.
 */
export async function copySourceDisk(source: string, paths: InstancePaths): Promise<string> {
  await mkdir(paths.disksDir, { recursive: true, mode: 0o700 });
  const layer = diskLayerPath(paths, newLayerId());
  try {
    await driver.disks.flattenCopy(source, layer);
  } catch (error) {
    if (!isSnapvmError(error, ErrorCode.ExternalTool)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, error.message, {
      hint: "The disk must be the one the stream's VM ran on, unchanged since, and no QEMU may still be using it.",
      cause: error,
      details: { path: source },
    });
  }
  await symlink(relative(paths.dir, layer), paths.disk);
  return layer;
}
