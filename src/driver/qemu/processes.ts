import { readdir, readFile } from "node:fs/promises";
import { processAlive } from "../../util/process-alive.ts";
import { escapeOptionValue } from "./argv.ts";

/** QEMU processes serving a QMP socket: their argv names it, and no two instances share one. */
export async function processesServing(qmpSocket: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("qemu-system") && cmdline.includes(`unix:${escapeOptionValue(qmpSocket)},`) && processAlive(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}
