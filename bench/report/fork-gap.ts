import type { BenchResults } from "../results.ts";
import { findAll, summarizeRuns } from "./summary.ts";

/** What the issue allows snapvm's forks over raw clones: time ×1.5, PSS +5 MiB per fork. */
export const FORK_TIME_FACTOR = 1.5;
export const FORK_PSS_EXTRA_MIB = 5;

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
        lines.push(
          `fork ×${fork.forks ?? "?"} vs raw clones ×${fork.forks ?? "?"}: T_snapvm / T_raw = ${ratio.toFixed(2)}× (PSS per fork ${sign}${Math.abs(extraMiB).toFixed(1)} MiB)${met} [${size.label} ${dataCase}: ${(t / 1000).toFixed(2)} s vs ${(tRaw / 1000).toFixed(2)} s]`,
        );
      }
    }
  }
  return lines.join("\n");
}
