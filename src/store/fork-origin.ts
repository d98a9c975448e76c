import { readFile } from "node:fs/promises";
import { isErrno } from "../errors/index.ts";
import type { InstancePaths } from "../paths/index.ts";
import { writeJsonAtomic } from "../util/atomic-write.ts";

/** What a fork was made from. Its disk is an overlay on that snapshot's layer, so the snapshot must outlive it. */
export interface ForkOrigin {
  instance: string;
  tag: string;
  createdAt: string;
}

export async function readOrigin(paths: InstancePaths): Promise<ForkOrigin | undefined> {
  try {
    return JSON.parse(await readFile(paths.origin, "utf8")) as ForkOrigin;
  } catch (error) {
    if (isErrno(error, "ENOENT") || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

export async function writeOrigin(path: string, origin: ForkOrigin): Promise<void> {
  await writeJsonAtomic(path, origin);
}
