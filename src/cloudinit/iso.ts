import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { CommandFailedError, runCommand } from "../util/run-command.ts";

/** cloud-init's NoCloud datasource finds its data on a filesystem with this volume label. */
export const CIDATA_VOLUME_ID = "cidata";

/**
 * Writes an ISO 9660 image (Joliet and Rock Ridge, as cloud-init expects) holding `files` (name →
 * content) at `isoPath`. Built under a temp name beside it and renamed: a VM never sees half an ISO.
 */
export async function writeCidataIso(isoPath: string, files: Readonly<Record<string, string>>): Promise<void> {
  const staging = await mkdtemp(join(dirname(isoPath), `.${basename(isoPath)}.tmp-`));
  try {
    const names = Object.keys(files);
    for (const name of names) await writeFile(join(staging, name), files[name] ?? "");
    const temp = join(staging, "out.iso");
    await runXorriso(["-as", "genisoimage", "-quiet", "-output", temp, "-volid", CIDATA_VOLUME_ID, "-joliet", "-rock", ...names], staging);
    await rename(temp, isoPath);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function runXorriso(args: string[], cwd: string): Promise<void> {
  try {
    await runCommand("xorriso", args, { cwd });
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, `writing the cloud-init ISO failed: ${error.message}`, {
      hint: "Check that xorriso is installed (scripts/setup-host.sh).",
      cause: error,
    });
  }
}
