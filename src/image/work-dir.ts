import { mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "../util/process-alive.ts";

const PREFIX = ".tiny.build-";
const PATTERN = /^\.tiny\.build-(\d+)-/;

/**
 * A fresh build directory in `imagesDir`, named after this process so that a later build can tell
 * it from a running one. It holds ~500 MB while the kernel package is unpacked.
 */
export function makeWorkDir(imagesDir: string): Promise<string> {
  return mkdtemp(join(imagesDir, `${PREFIX}${process.pid}-`));
}

/** Removes build directories left by builds whose process is gone (killed, crashed, powered off). */
export async function removeStaleWorkDirs(imagesDir: string, alive: (pid: number) => boolean = processAlive): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(imagesDir)) {
    const pid = PATTERN.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    await rm(join(imagesDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
