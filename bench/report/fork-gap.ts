import type { MethodId } from "../methods/catalog.ts";
import type { BenchResults, GuestSize } from "../results.ts";
import { findAll, summarizeRuns } from "./summary.ts";

/** What the issue allows snapvm's forks over raw clones: time ×1.5, PSS +5 MiB per fork. */
export const FORK_TIME_FACTOR = 1.5;
export const FORK_PSS_EXTRA_MIB = 5;

/** The idle CPU per fork a fan-out measured (fan-out.ts), as "X s (QEMU Y s + serving Z s)", or undefined. */
function idleCpu(results: BenchResults, size: GuestSize, dataCase: string, method: MethodId, forks: number | undefined): string | undefined {
  const extra = results.runs.find(
    (r) => r.size.label === size.label && r.dataCase === dataCase && r.method === method && r.forks === forks && r.error === undefined,
  )?.restore?.extra;
  const qemu = extra?.["idleQemuCpuMsPerFork"];
  const serving = extra?.["idleServingCpuMsPerFork"];
  if (qemu === undefined || serving === undefined) return undefined;
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  return `${s(qemu + serving)} (QEMU ${s(qemu)} + serving ${s(serving)})`;
}

/**
 * One line per fan-out both `snapvm-fork` and `qemu-clones` ran, per guest size and data case: how
 * much longer snapvm's forks took to all answer than raw clones of the same snapshot in this run,
 * and how much more PSS each fork costs (every process serving it, against the clone's QEMU alone).
 */
export function renderForkGap(results: BenchResults): string {
  const summaries = summarizeRuns(results.runs);
  const lines: string[] = [];
  for (const size of results.options.sizes) {
    for (const dataCase of results.options.cases) {
      const raw = findAll(summaries, size.label, dataCase, "qemu-clones");
      for (const fork of findAll(summaries, size.label, dataCase, "snapvm-fork")) {
        const clone = raw.find((r) => r.forks === fork.forks);
        const t = fork.figures.answerMs?.median;
        const tRaw = clone?.figures.answerMs?.median;
        const pss = fork.figures.qemuPssKiB?.median;
        const pssRaw = clone?.figures.qemuPssKiB?.median;
        if (t === undefined || tRaw === undefined || pss === undefined || pssRaw === undefined) continue;
        const ratio = t / tRaw;
        const extraMiB = (pss - pssRaw) / 1024;
        const met = ratio <= FORK_TIME_FACTOR && extraMiB <= FORK_PSS_EXTRA_MIB ? "" : " (target ≤ 1.5×, ≤ +5 MiB)";
        const sign = extraMiB >= 0 ? "+" : "−";
        const idleFork = idleCpu(results, size, dataCase, "snapvm-fork", fork.forks);
        const idleRaw = idleCpu(results, size, dataCase, "qemu-clones", fork.forks);
        const idle = idleFork === undefined || idleRaw === undefined ? "" : `; idle CPU per fork: ${idleFork} vs ${idleRaw}`;
        lines.push(
          `fork ×${fork.forks ?? "?"} vs raw clones ×${fork.forks ?? "?"}: T_snapvm / T_raw = ${ratio.toFixed(2)}× (PSS per fork ${sign}${Math.abs(extraMiB).toFixed(1)} MiB)${met} [${size.label} ${dataCase}: ${(t / 1000).toFixed(2)} s vs ${(tRaw / 1000).toFixed(2)} s${idle}]`,
        );
      }
    }
  }
  return lines.join("\n");
}
