import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { CommandFailedError, runCommand } from "../../util/run-command.ts";
import type { DiskImages, ImageFacts } from "../driver.ts";

async function qemuImg(args: string[], what: string): Promise<string> {
  try {
    return (await runCommand("qemu-img", args)).stdout;
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, `${what} failed: ${error.message}`, {
      cause: error,
      hint: "Check that qemu-img (scripts/setup-host.sh) is installed and the disk files are intact.",
    });
  }
}

/** Reads an image's header. `-U` because a running QEMU may hold the image's lock. */
export async function imageFacts(path: string): Promise<ImageFacts> {
  const info = JSON.parse(await qemuImg(["info", "-U", "--output=json", path], `reading ${path}`)) as { "virtual-size": number; "backing-filename"?: string };
  return { virtualSize: info["virtual-size"], ...(info["backing-filename"] === undefined ? {} : { backingFile: info["backing-filename"] }) };
}

/**
 * Creates a qcow2 overlay whose header names `backing` (absolute). With `unsafe`, the backing file
 * need not exist yet: a disk snapshot writes the future path of the layer it is about to freeze.
 */
export async function createOverlay(path: string, backing: string, sizeBytes: number, unsafe = false): Promise<void> {
  await qemuImg(
    ["create", "-q", ...(unsafe ? ["-u"] : []), "-f", "qcow2", "-F", "qcow2", "-b", backing, path, String(sizeBytes)],
    `creating the overlay ${path}`,
  );
}

/** Offline merge: `path` stops depending on its backing layer and uses `newBacking` (or none), copying what differs. */
export async function rebaseImage(path: string, newBacking: string | undefined): Promise<void> {
  await qemuImg(["rebase", "-q", "-f", "qcow2", ...(newBacking === undefined ? ["-b", ""] : ["-F", "qcow2", "-b", newBacking]), path], `rebasing ${path}`);
}

/** Rewrites the backing name in the header and nothing else: the layer moved, its contents did not. */
export async function relinkImage(path: string, backing: string): Promise<void> {
  await qemuImg(["rebase", "-q", "-u", "-f", "qcow2", "-F", "qcow2", "-b", backing, path], `relinking ${path}`);
}

/** A new qcow2 image, over a read-only backing image (a cloud image) when given. */
export async function createImage(path: string, sizeBytes: number, backing?: string): Promise<void> {
  await qemuImg(
    ["create", "-q", "-f", "qcow2", ...(backing === undefined ? [] : ["-b", backing, "-F", "qcow2"]), path, String(sizeBytes)],
    `creating the disk ${path}`,
  );
}

/**
 * Copies an image into a standalone qcow2, flattening its chain. No `-U`: QEMU's image lock makes a
 * copy of a disk a running QEMU still writes fail, rather than silently copy a moving disk.
 */
export async function flattenCopy(source: string, target: string): Promise<void> {
  await qemuImg(["convert", "-q", "-O", "qcow2", source, target], `copying the disk ${source}`);
}

export const qemuDisks: DiskImages = { create: createImage, createOverlay, facts: imageFacts, rebase: rebaseImage, relink: relinkImage, flattenCopy };
