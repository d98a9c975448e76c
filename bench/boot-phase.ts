import type { MemoryBacking } from "../src/config/launch-spec.ts";
import { writeWorkload } from "./guest-workload.ts";
import type { BenchHome } from "./home.ts";
import { dropCaches } from "./host.ts";
import { coldBoot } from "./methods/cold-boot.ts";
import type { GuestSize, RunRecord, WorkloadRecord } from "./results.ts";
import { coldBootSpec } from "./spec.ts";

export interface BootPhaseOptions {
  home: BenchHome;
  size: GuestSize;
  runs: number;
  warm: boolean;
  coldBoot: boolean;
  workload: boolean;
  log: (line: string) => void;
}

/** The workload writes a quarter of the guest's RAM: enough to dwarf the exec overhead, quick under TCG. */
const WORKLOAD_FRACTION = 4;
/** snapvm's default first: the cold-boot reference is the file-backed boot. */
const BACKINGS: readonly MemoryBacking[] = ["file", "anonymous"];

/**
 * Cold boots of the same guest, each followed by the RAM-backing workload: what file-backed guest
 * RAM (snapvm's default) costs a running guest against anonymous RAM, on fresh guests whose RAM
 * the host has never backed.
 */
export async function runBootPhase(options: BootPhaseOptions): Promise<{ runs: RunRecord[]; workload: WorkloadRecord[] }> {
  const { home, size } = options;
  const name = `k${Math.round(size.bytes / 2 ** 20)}`;
  const runs: RunRecord[] = [];
  const workload: WorkloadRecord[] = [];
  await home.cliJson(["create", name, "--memory", size.label, "--disk", "1G"]);
  try {
    const spec = await coldBootSpec(home.dir, name);
    for (let run = 1; run <= options.runs; run++) {
      for (const backing of BACKINGS) {
        if (!options.workload && backing !== "file") continue;
        if (!options.warm) dropCaches();
        const { figures, guest } = await coldBoot(home, spec, backing);
        try {
          if (backing === "file" && options.coldBoot) runs.push({ size, dataCase: "-", method: "cold-boot", run, restore: figures });
          if (options.workload) {
            const bytes = Math.floor(size.bytes / WORKLOAD_FRACTION);
            const throughput = await writeWorkload(guest, bytes);
            workload.push({ size, run, backing, bytes, bootMs: figures.answerMs, ...throughput });
            options.log(
              `[${size.label}] ${backing} RAM: boot ${(figures.answerMs / 1000).toFixed(2)} s, ` +
                `write ${throughput.firstTouchMBps.toFixed(0)} MB/s first touch, ${throughput.rewriteMBps.toFixed(0)} MB/s rewrite`,
            );
          }
        } finally {
          await guest.vm.quit();
        }
      }
    }
  } finally {
    await home.cli(["delete", "--force", name]);
  }
  return { runs, workload };
}
