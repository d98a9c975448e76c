import { mkdir, symlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import { CommandFailedError, runCommand } from "../../util/run-command.ts";
import { newLayerId } from "../disk/layers.ts";

/**
 * Copies the source VM's disk into the new instance's first layer, flattening its qcow2 chain, and
 * links disk.qcow2 to it (disk-layers.ts); returns the layer's path. The stream's guest caches what it read from this disk,
 * so it MUST be the disk as it was when the stream was saved. No `-U`: QEMU's image lock makes a
 * copy of a disk a running QEMU still writes fail, rather than silently copy a moving disk.
 */
export async function copySourceDisk(source: string, paths: InstancePaths): Promise<string> {
  await mkdir(paths.disksDir, { recursive: true, mode: 0o700 });
  const layer = join(paths.disksDir, `${newLayerId()}.qcow2`);
  try {
    await runCommand("qemu-img", ["convert", "-q", "-O", "qcow2", source, layer]);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, `copying the source disk ${source} failed: ${error.message}`, {
      hint: "The disk must be the one the stream's VM ran on, unchanged since, and no QEMU may still be using it.",
      cause: error,
      details: { path: source },
    });
  }
  await symlink(relative(paths.dir, layer), paths.disk);
  return layer;
}
