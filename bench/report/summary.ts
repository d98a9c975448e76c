import { BASELINE, type MethodId } from "../methods/catalog.ts";
import type { GuestSize, RunRecord, WorkloadRecord } from "../results.ts";
import { summarize, type Summary } from "../stats.ts";

export const FIGURES = ["pauseMs", "saveTotalMs", "stateAllocatedBytes", "stateApparentBytes", "answerMs", "qemuRssKiB", "qemuPssKiB", "verifyMs"] as const;
export type Figure = (typeof FIGURES)[number];

/** Every figure of one method on one guest size and data case, over its runs. */
export interface MethodSummary {
  size: GuestSize;
  dataCase: string;
  method: MethodId;
  /** Fork methods: how many forks started together. */
  forks?: number;
  figures: Partial<Record<Figure, Summary>>;
  checks: { ok: number; failed: number };
  errors: string[];
}

function figureOf(record: RunRecord, figure: Figure): number | undefined {
  switch (figure) {
    case "pauseMs":
      return record.save?.pauseMs;
    case "saveTotalMs":
      return record.save?.totalMs;
    case "stateAllocatedBytes":
      return record.save?.stateAllocatedBytes;
    case "stateApparentBytes":
      return record.save?.stateApparentBytes;
    case "answerMs":
      return record.restore?.answerMs;
    case "qemuRssKiB":
      return record.restore?.qemuRssKiB;
    case "qemuPssKiB":
      return record.restore?.qemuPssKiB;
    case "verifyMs":
      return record.check?.verifyMs;
  }
}

/** Transfer runs (they have a variant) are left out: their figures are not these (report/transfer-summary.ts). */
export function summarizeRuns(records: readonly RunRecord[]): MethodSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const record of records) {
    if (record.variant !== undefined) continue;
    const key = `${record.size.label}\u0000${record.dataCase}\u0000${record.method}\u0000${record.forks ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0];
    if (first === undefined) throw new Error("empty group");
    const figures: Partial<Record<Figure, Summary>> = {};
    for (const figure of FIGURES) {
      const summary = summarize(group.map((r) => (r.error === undefined ? figureOf(r, figure) : undefined)));
      if (summary !== undefined) figures[figure] = summary;
    }
    return {
      size: first.size,
      dataCase: first.dataCase,
      method: first.method,
      ...(first.forks === undefined ? {} : { forks: first.forks }),
      figures,
      checks: { ok: group.filter((r) => r.check?.ok === true).length, failed: group.filter((r) => r.check?.ok === false).length },
      errors: group.flatMap((r) => (r.error === undefined ? [] : [r.error])),
    };
  });
}

/** The method's summary; for a fork method, its first fan-out (findAll has them all). */
export function find(summaries: readonly MethodSummary[], size: string, dataCase: string, method: MethodId): MethodSummary | undefined {
  return findAll(summaries, size, dataCase, method)[0];
}

/** Every summary of the method: one, or one per fan-out of a fork method, fewest forks first. */
export function findAll(summaries: readonly MethodSummary[], size: string, dataCase: string, method: MethodId): MethodSummary[] {
  return summaries.filter((s) => s.size.label === size && s.dataCase === dataCase && s.method === method).sort((a, b) => (a.forks ?? 0) - (b.forks ?? 0));
}

/** How many times smaller the method's median is than the baseline's (pause, restore): >1 is better. */
export function ratioToBaseline(summaries: readonly MethodSummary[], s: MethodSummary, figure: Figure, dataCase: string): number | undefined {
  const base = find(summaries, s.size.label, dataCase, BASELINE)?.figures[figure]?.median;
  const own = s.figures[figure]?.median;
  if (base === undefined || own === undefined || own <= 0) return undefined;
  return base / own;
}

export interface BackingRatio {
  size: GuestSize;
  firstTouch: { file: number; anonymous: number };
  rewrite: { file: number; anonymous: number };
}

/** Median write throughput per backing and size: what file-backed RAM costs a running guest. */
export function backingRatios(workload: readonly WorkloadRecord[]): BackingRatio[] {
  const sizes = [...new Map(workload.map((w) => [w.size.label, w.size])).values()];
  return sizes.map((size) => {
    const of = (backing: string, key: "firstTouchMBps" | "rewriteMBps"): number =>
      summarize(workload.filter((w) => w.size.label === size.label && w.backing === backing).map((w) => w[key]))?.median ?? Number.NaN;
    return {
      size,
      firstTouch: { file: of("file", "firstTouchMBps"), anonymous: of("anonymous", "firstTouchMBps") },
      rewrite: { file: of("file", "rewriteMBps"), anonymous: of("anonymous", "rewriteMBps") },
    };
  });
}
