import { setTimeout as sleep } from "node:timers/promises";
import { checksumMemory, type DataCase } from "./guest-workload.ts";
import { qemuPidOf } from "./guest/running.ts";
import { cpuMsOf, dropCaches, memAvailableKiB, memoryOf } from "./host.ts";
import type { Extra, ForkFigures, ForkMethod } from "./methods/types.ts";
import type { GuestSize, RunRecord } from "./results.ts";

export interface FanOutOptions {
  base: { size: GuestSize; dataCase: DataCase };
  runs: number;
  warm: boolean;
  /** Seconds of idle CPU measured after the IDLE_CPU_COUNT fan-out answers; 0: none. */
  idleCpuS: number;
  /** The checksums of the dirtied data, as written before the forks' state was taken. */
  expected: string;
  dirtyBytes: number;
  log: (line: string) => void;
  /** Said in the run's notes as well as logged. */
  note: (line: string) => void;
}

/** The fan-out whose idle CPU is measured (the issue's: 16 idle forks against 16 raw clones). */
export const IDLE_CPU_COUNT = 16;

/**
 * The CPU the fan-out's processes use over `seconds` once every fork answered and nothing asks
 * anything of them, per fork: their QEMUs (the guests idle), and the processes serving them.
 */
async function idleCpu(processes: ForkFigures["processes"], count: number, seconds: number): Promise<Extra> {
  const total = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
  const qemu0 = total(processes.qemu);
  const other0 = total(processes.other);
  await sleep(seconds * 1000);
  return {
    idleCpuS: seconds,
    idleQemuCpuMsPerFork: (total(processes.qemu) - qemu0) / count,
    idleServingCpuMsPerFork: (total(processes.other) - other0) / count,
  };
}

/** A fan-out (or an imported guest) is not started when it would take more than this share of the host's available memory. */
export const MEMORY_SHARE = 0.8;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(0)} MiB`;
}

/**
 * Why `count` forks should not be started, judged on the largest RSS per fork seen so far (an upper
 * bound: RSS counts the pages the forks share in full) plus the one fork whose data the check reads.
 * Other work may run on this host: running it out of memory would kill someone else's VMs.
 */
function memoryShortfall(count: number, rssPerForkKiB: number | undefined, dirtyBytes: number): string | undefined {
  if (rssPerForkKiB === undefined) return undefined;
  const needKiB = count * rssPerForkKiB + dirtyBytes / 1024;
  const availableKiB = memAvailableKiB();
  if (needKiB <= availableKiB * MEMORY_SHARE) return undefined;
  return `${count} forks at ${mib(rssPerForkKiB)} RSS each would need ${mib(needKiB)}; the host has ${mib(availableKiB)} available`;
}

/**
 * Every fan-out of a fork method, `runs` times each: fork (page cache dropped first unless warm),
 * wait for all to answer, check one fork's memory, delete the forks. A failing fan-out is recorded
 * on its row and in the notes, and the next one runs; only a failure to delete forks ends the method.
 * Records go into `records` as they start, so a run that throws keeps its row.
 */
export async function measureFanOuts(method: ForkMethod, options: FanOutOptions, records: RunRecord[]): Promise<void> {
  const { base, dirtyBytes } = options;
  let rssPerForkKiB: number | undefined;
  for (const count of method.counts) {
    for (let run = 1; run <= options.runs; run++) {
      const record: RunRecord = { ...base, method: method.id, forks: count, run };
      records.push(record);
      const shortfall = memoryShortfall(count, rssPerForkKiB, dirtyBytes);
      if (shortfall !== undefined) {
        record.error = `not run: ${shortfall}`;
      } else {
        try {
          if (!options.warm) dropCaches();
          const { restore, sample, processes } = await method.fork(count);
          record.restore = restore;
          if (options.idleCpuS > 0 && count === IDLE_CPU_COUNT) Object.assign(restore.extra, await idleCpu(processes, count, options.idleCpuS));
          rssPerForkKiB = Math.max(rssPerForkKiB ?? 0, restore.qemuRssKiB);
          const check = await checksumMemory(sample, dirtyBytes);
          const memory = memoryOf(qemuPidOf(sample));
          record.check = { ok: check.sums === options.expected, verifyMs: check.ms, qemuRssKiB: memory.rssKiB, qemuPssKiB: memory.pssKiB };
          if (!record.check.ok) record.error = "a fork's memory differs from the guest's when it was snapshotted";
        } catch (error) {
          record.error = message(error);
        } finally {
          await method.removeForks();
        }
      }
      options.log(describe(record));
      if (record.error !== undefined) {
        options.note(`${base.size.label} ${base.dataCase} ${method.id} ×${count}: ${record.error}`);
        break;
      }
    }
  }
}

function describe(r: RunRecord): string {
  const seconds = (ms: number | undefined): string => (ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`);
  const figures =
    r.restore === undefined
      ? ""
      : `all answering ${seconds(r.restore.answerMs)}, RSS ${mib(r.restore.qemuRssKiB)} / PSS ${mib(r.restore.qemuPssKiB)} per fork, `;
  const idle = r.restore?.extra["idleCpuS"];
  const idleText =
    idle === undefined
      ? ""
      : `idle CPU over ${idle} s ${((r.restore?.extra["idleQemuCpuMsPerFork"] ?? Number.NaN) / 1000).toFixed(2)} s QEMU + ${((r.restore?.extra["idleServingCpuMsPerFork"] ?? Number.NaN) / 1000).toFixed(2)} s serving per fork, `;
  const check = r.check === undefined ? "no check" : `check ${r.check.ok ? "ok" : "FAILED"} (read back in ${seconds(r.check.verifyMs)})`;
  return `[${r.size.label} ${r.dataCase}] ${r.method} ×${r.forks ?? "?"} run ${r.run}: ${figures}${idleText}${check}${r.error === undefined ? "" : `; ${r.error}`}`;
}
