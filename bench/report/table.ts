import { METHOD_IDS, TRANSFER_METHOD_IDS, methodLabel } from "../methods/catalog.ts";
import type { BenchResults } from "../results.ts";
import type { Summary } from "../stats.ts";
import { renderBreakdown } from "./breakdown.ts";
import { renderCloudGuest } from "./cloud-table.ts";
import { renderForkGap } from "./fork-gap.ts";
import { formatBytes, formatMs } from "./format.ts";
import { renderTransfers } from "./transfer-table.ts";
import { renderMigrations } from "../methods/migrate-report.ts";
import { backingRatios, findAll, ratioToBaseline, summarizeRuns, type Figure, type MethodSummary } from "./summary.ts";

/** "median (min–max)" when there was more than one run; sizes and memory show the median only. */
function cell(summary: Summary | undefined, format: (v: number) => string, spread = true): string {
  if (summary === undefined) return "–";
  if (!spread || summary.n === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

function ratio(value: number | undefined): string {
  if (value === undefined) return "–";
  if (value >= 100) return `${value.toFixed(0)}×`;
  return `${value.toFixed(value >= 10 ? 0 : 1)}×`;
}

const HEADER = [
  "Method",
  "Guest pause (save)",
  "vs gist",
  "Save total",
  "State on disk (alloc / apparent)",
  "Restore → answering",
  "vs gist",
  "QEMU RSS / PSS",
  "Read back all",
  "Memory check",
];

function row(summaries: readonly MethodSummary[], s: MethodSummary, dataCase: string): string[] {
  const f = (figure: Figure, format: (v: number) => string): string => cell(s.figures[figure], format, format === formatMs);
  const kib = (v: number): string => formatBytes(v * 1024);
  const check = s.checks.failed > 0 ? `FAILED ${s.checks.failed}/${s.checks.ok + s.checks.failed}` : s.checks.ok > 0 ? "ok" : "–";
  const failed = s.errors.length > 0 ? ` ⚠ ${s.errors[0] ?? ""}` : "";
  return [
    `${methodLabel(s.method, s.forks)}${failed}`,
    f("pauseMs", formatMs),
    ratio(ratioToBaseline(summaries, s, "pauseMs", dataCase)),
    f("saveTotalMs", formatMs),
    s.figures.stateAllocatedBytes === undefined ? "–" : `${f("stateAllocatedBytes", formatBytes)} / ${f("stateApparentBytes", formatBytes)}`,
    f("answerMs", formatMs),
    ratio(ratioToBaseline(summaries, s, "answerMs", dataCase)),
    s.figures.qemuRssKiB === undefined ? "–" : `${f("qemuRssKiB", kib)} / ${f("qemuPssKiB", kib)}`,
    f("verifyMs", formatMs),
    check,
  ];
}

function markdown(rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  const align = HEADER.map((_, i) => (i === 0 ? "---" : i === HEADER.length - 1 ? ":---:" : "---:"));
  return [line(HEADER), `|${align.join("|")}|`, ...rows.map(line)].join("\n");
}

/** One table per guest size and data case: method × figure, medians (min–max), ratios to the gist. */
export function renderTables(results: BenchResults): string {
  const summaries = summarizeRuns(results.runs);
  const out: string[] = [];
  for (const size of results.options.sizes) {
    for (const dataCase of results.options.cases) {
      const rows: string[][] = [];
      for (const method of METHOD_IDS.filter((m) => !TRANSFER_METHOD_IDS.includes(m))) {
        const own = findAll(summaries, size.label, dataCase, method);
        for (const s of own.length > 0 ? own : findAll(summaries, size.label, "-", method)) rows.push(row(summaries, s, dataCase));
      }
      if (rows.length === 0) continue;
      const runs = results.options.runs === 1 ? "1 run" : `median of ${results.options.runs} runs (min–max)`;
      out.push(
        `**${size.label} guest, ${formatBytes(Math.floor(size.bytes / 2))} dirtied with ${dataCase} data** — ${runs}, page cache ${results.options.warm ? "warm" : "dropped before each restore"}\n\n${markdown(rows)}`,
      );
    }
  }
  const gap = renderForkGap(results);
  if (gap !== "") out.push(gap);
  const transfers = renderTransfers(results);
  if (transfers !== "") out.push(transfers);
  const migrations = renderMigrations(results.migrations ?? []);
  if (migrations !== "") out.push(migrations);
  const breakdown = renderBreakdown(results);
  if (breakdown !== "") out.push(breakdown);
  const backing = renderBacking(results);
  if (backing !== "") out.push(backing);
  const cloud = renderCloudGuest(results.cloudGuest?.records, results.cloudGuest?.gapMs);
  if (cloud !== "") out.push(cloud);
  return out.join("\n\n");
}

function renderBacking(results: BenchResults): string {
  const ratios = backingRatios(results.workload);
  if (ratios.length === 0) return "";
  const header = "| Guest | Write, anonymous RAM | Write, file-backed RAM (default) | File vs anonymous |\n|---|---:|---:|---:|";
  const mbps = (v: number): string => `${v.toFixed(0)} MB/s`;
  const lines = ratios.flatMap((r) => [
    `| ${r.size.label}, first touch | ${mbps(r.firstTouch.anonymous)} | ${mbps(r.firstTouch.file)} | ${(r.firstTouch.file / r.firstTouch.anonymous).toFixed(2)}× |`,
    `| ${r.size.label}, rewrite | ${mbps(r.rewrite.anonymous)} | ${mbps(r.rewrite.file)} | ${(r.rewrite.file / r.rewrite.anonymous).toFixed(2)}× |`,
  ]);
  return `**What file-backed RAM costs a running guest** — writing a quarter of the guest's RAM into tmpfs (dd from /dev/zero) on a fresh cold-booted guest, then again after freeing it\n\n${header}\n${lines.join("\n")}`;
}
