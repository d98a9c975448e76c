import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { CommandFailedError, runCommand } from "../util/run-command.ts";

/**
 * The `zstd` CLI, file to file (DESIGN.md §4). File paths rather than a pipe because zstd then
 * writes runs of zeros as holes when decompressing (`--sparse`, its default for file output, made
 * explicit here): a 4 GiB RAM file with 300 MiB touched comes back as 300 MiB, not 4 GiB.
 * Neither call overwrites: the target must not exist (callers write to a fresh partial name).
 * zstd adds a checksum of the content to the frame and checks it when decompressing.
 */
export async function zstdCompress(source: string, target: string, level: number): Promise<void> {
  await zstd(["-q", "-T0", `-${level}`, "-o", target, "--", source], `compress ${source}`);
}

export async function zstdDecompress(source: string, target: string): Promise<void> {
  await zstd(["-q", "-d", "--sparse", "-o", target, "--", source], `decompress ${source}`);
}

async function zstd(args: string[], what: string): Promise<void> {
  try {
    await runCommand("zstd", args);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, `zstd could not ${what}: ${error.message}`, {
      hint:
        error.result === undefined
          ? "Install the zstd command-line tool (Debian: apt-get install zstd)."
          : "The snapshot was left as it was; check the free space and the file, then try again.",
      cause: error,
    });
  }
}
