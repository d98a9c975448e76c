import { mkdir, readFile } from "node:fs/promises";
import type { CompleteConfigFile } from "../../config/index.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";

export async function pinBoot(paths: InstancePaths, config: CompleteConfigFile, launch: PinnedLaunch): Promise<void> {
  await mkdir(paths.bootDir, { recursive: true, mode: 0o700 });
  await writeJsonAtomic(paths.bootConfig, config);
  await writeJsonAtomic(paths.bootLaunch, launch);
}

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const reason = isErrno(error, "ENOENT") ? "is missing" : error instanceof SyntaxError ? "is not valid JSON" : undefined;
    if (reason === undefined) throw error;
    throw new SnapvmError(ErrorCode.StateInvalid, `${what} ${path} ${reason}`, { cause: error });
  }
}

export async function readPinnedLaunch(paths: InstancePaths): Promise<PinnedLaunch> {
  return (await readJson(paths.bootLaunch, "the pinned launch")) as PinnedLaunch;
}

/** Written with every default filled in, so it is complete as read. */
export async function readPinnedConfig(paths: InstancePaths): Promise<CompleteConfigFile> {
  return (await readJson(paths.bootConfig, "the pinned config")) as CompleteConfigFile;
}
