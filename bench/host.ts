import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileSizes } from "../src/util/file-facts.ts";

/** Flushes and drops the host page cache, so a restore reads its state from disk. Needs root. */
export function dropCaches(): void {
  spawnSync("sync");
  writeFileSync("/proc/sys/vm/drop_caches", "3\n");
}

export function canDropCaches(): boolean {
  try {
    dropCaches();
    return true;
  } catch {
    return false;
  }
}

export interface ProcessMemory {
  rssKiB: number;
  pssKiB: number;
}

/** RSS and PSS from /proc/PID/smaps_rollup (PSS shares page-cache pages among the processes mapping them). */
export function memoryOf(pid: number): ProcessMemory {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return { rssKiB: field("Rss"), pssKiB: field("Pss") };
}

const CLOCK_TICKS_PER_S = 100;

/** CPU a process has used so far, user + system (/proc/PID/stat utime and stime, in clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** What the host can still give without swapping (MemAvailable in /proc/meminfo). */
export function memAvailableKiB(): number {
  const text = readFileSync("/proc/meminfo", "utf8");
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1] ?? Number.NaN);
}

export interface DiskUse {
  apparentBytes: number;
  allocatedBytes: number;
}

/** What a set of files costs: the length a reader sees, and the blocks allocated (holes are free). */
export async function diskUse(paths: readonly string[]): Promise<DiskUse> {
  let apparentBytes = 0;
  let allocatedBytes = 0;
  for (const path of paths) {
    const sizes = await fileSizes(path);
    apparentBytes += sizes.apparentBytes;
    allocatedBytes += sizes.allocatedBytes;
  }
  return { apparentBytes, allocatedBytes };
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).map((name) => `${dir}/${name}`);
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8")
        .split(" ")
        .filter((s) => s !== "")
        .map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Waits until QEMU has no child process left. After an `exec:` migration reports "completed", the
 * compressor may still be writing the tail of the file; the state is complete only once it exited.
 */
export async function waitChildrenGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (childrenOf(pid).length > 0) {
    if (performance.now() > deadline) throw new Error(`QEMU ${pid} still has children after ${timeoutMs} ms`);
    await sleep(2);
  }
}
