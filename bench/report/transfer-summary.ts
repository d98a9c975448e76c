import { TRANSFER_METHOD_IDS, type MethodId } from "../methods/catalog.ts";
import type { TransferVariant } from "../methods/types.ts";
import type { GuestSize, RunRecord } from "../results.ts";
import { summarize, type Summary } from "../stats.ts";
import { formatMs } from "./format.ts";

export const TRANSFER_FIGURES = [
  "pauseMs",
  "totalMs",
  "cliReportedMs",
  "dataBytes",
  "mibPerSecond",
  "outputAllocatedBytes",
  "outputApparentBytes",
  "importMs",
  "answerMs",
  "qemuRssKiB",
  "verifyMs",
] as const;
export type TransferFigure = (typeof TRANSFER_FIGURES)[number];

/** Every figure of one transfer method and variant on one guest size and data case, over its runs. */
export interface TransferSummary {
  size: GuestSize;
  dataCase: string;
  method: MethodId;
  /** Undefined for a method that failed before its first variant (its row carries the error). */
  variant: TransferVariant | undefined;
  figures: Partial<Record<TransferFigure, Summary>>;
  checks: { ok: number; failed: number };
  errors: string[];
  skipped: string[];
}

function figureOf(r: RunRecord, figure: TransferFigure): number | undefined {
  const t = r.transfer;
  switch (figure) {
    case "pauseMs":
      return t?.pauseMs;
    case "totalMs":
      return t?.totalMs;
    case "cliReportedMs":
      return t?.extra["cliReportedMs"];
    case "dataBytes":
      return t?.dataBytes;
    case "mibPerSecond":
      return t === undefined ? undefined : t.dataBytes / 2 ** 20 / (t.totalMs / 1000);
    case "outputAllocatedBytes":
      return t?.outputAllocatedBytes;
    case "outputApparentBytes":
      return t?.outputApparentBytes;
    case "importMs":
      return r.import?.totalMs;
    case "answerMs":
      return r.restore?.answerMs;
    case "qemuRssKiB":
      return r.restore?.qemuRssKiB;
    case "verifyMs":
      return r.check?.verifyMs;
  }
}

export function summarizeTransfers(records: readonly RunRecord[]): TransferSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const record of records) {
    if (!TRANSFER_METHOD_IDS.includes(record.method)) continue;
    const key = `${record.size.label}\u0000${record.dataCase}\u0000${record.method}\u0000${record.variant ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0];
    if (first === undefined) throw new Error("empty group");
    const figures: Partial<Record<TransferFigure, Summary>> = {};
    for (const figure of TRANSFER_FIGURES) {
      // A failed run's transfer figures still count: the failure may be the import's (its figures are then absent).
      const summary = summarize(group.map((r) => figureOf(r, figure)));
      if (summary !== undefined) figures[figure] = summary;
    }
    return {
      size: first.size,
      dataCase: first.dataCase,
      method: first.method,
      variant: first.variant,
      figures,
      checks: { ok: group.filter((r) => r.check?.ok === true).length, failed: group.filter((r) => r.check?.ok === false).length },
      errors: group.flatMap((r) => (r.error === undefined ? [] : [r.error])),
      skipped: [...new Set(group.flatMap((r) => (r.skipped === undefined ? [] : [r.skipped])))],
    };
  });
}

export interface Verdict {
  verdict: "PASS" | "FAIL" | "n/a";
  text: string;
}

/** Whole MiB: the margin between data and allocation is a few MiB, which GiB with one decimal hides. */
function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

const BASELINE_NAME: Record<TransferVariant, string> = { plain: "cp|zstd", encrypted: "cp|zstd|age" };

/**
 * The issue's two claims, per guest size and data case, on this run's medians: snapvm's export at
 * least as fast as the do-it-yourself pipeline (T_snapvm / T_diy ≤ 1, plain and encrypted), and no
 * hole sent (the data every export carried ≤ the allocated bytes of the files it read).
 */
export function transferVerdicts(summaries: readonly TransferSummary[], records: readonly RunRecord[], size: GuestSize, dataCase: string): Verdict[] {
  const out: Verdict[] = [];
  const at = (method: MethodId, variant: TransferVariant): TransferSummary | undefined =>
    summaries.find((s) => s.size.label === size.label && s.dataCase === dataCase && s.method === method && s.variant === variant);
  const where = `${size.label} ${dataCase}`;
  for (const variant of ["plain", "encrypted"] as const) {
    const snapvm = at("snapvm-export", variant)?.figures;
    const own = snapvm?.totalMs?.median;
    const reported = snapvm?.cliReportedMs?.median;
    const diy = at("diy-export", variant)?.figures.totalMs?.median;
    const what = `export vs ${BASELINE_NAME[variant]} (${where}, ${variant})`;
    if (own === undefined || diy === undefined) {
      if (own !== undefined || diy !== undefined) out.push({ verdict: "n/a", text: `${what}: needs both snapvm-export and diy-export in the run` });
      continue;
    }
    const ratio = own / diy;
    out.push({
      verdict: ratio <= 1 ? "PASS" : "FAIL",
      text:
        `${what}: T_snapvm / T_diy = ${formatMs(own)} / ${formatMs(diy)} = ${ratio.toFixed(2)}× (target ≤ 1×; the CLI's wall time, ` +
        `${reported === undefined ? "" : `${formatMs(reported)} by the export's own clock, `}against cp plus the pipeline)`,
    });
  }
  const exports = records.filter((r) => r.method === "snapvm-export" && r.size.label === size.label && r.dataCase === dataCase && r.transfer !== undefined);
  if (exports.length > 0) {
    const holes = exports.filter((r) => r.transfer !== undefined && !(r.transfer.dataBytes <= (r.transfer.sourceAllocatedBytes ?? Number.NaN)));
    const worst = exports.reduce((a, b) => ((a.transfer?.dataBytes ?? 0) >= (b.transfer?.dataBytes ?? 0) ? a : b)).transfer;
    const own = worst?.extra["benchAllocatedBytes"];
    out.push({
      verdict: holes.length === 0 ? "PASS" : "FAIL",
      text:
        `export sends no hole (${where}, ${exports.length} exports): data sent ≤ the files' allocated bytes` +
        (worst === undefined
          ? ""
          : `, at most ${mib(worst.dataBytes)} ≤ ${mib(worst.sourceAllocatedBytes ?? Number.NaN)} allocated` +
            `${own === undefined ? "" : ` (${mib(own)} by the bench's own stat)`} of ${mib(worst.extra["sourceApparentBytes"] ?? Number.NaN)} apparent`),
    });
  }
  return out;
}
