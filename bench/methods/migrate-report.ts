import { formatBytes, formatMs } from "../report/format.ts";
import type { TargetResult } from "../report/targets.ts";
import { summarize, type Summary } from "../stats.ts";
import { MIGRATION_LOADS, MIGRATION_MODES, WRITER_MIB, WRITER_PERIOD_MS, type MigrationRecord } from "./migrate.ts";

/** Issue 14's targets for these rows. */
export const IDLE_PRECOPY_DOWNTIME_TARGET_MS = 50;
export const POSTCOPY_ANSWERING_TARGET_MS = 500;

function cell(summary: Summary | undefined, format: (v: number) => string): string {
  if (summary === undefined) return "–";
  if (summary.n === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

function verdict(summary: Summary | undefined, targetMs: number): string {
  if (summary === undefined) return "";
  return summary.median <= targetMs ? ` ✓ ≤ ${targetMs} ms` : ` ✗ > ${targetMs} ms`;
}

const HEADER = [
  "Guest",
  "Load",
  "Mode",
  "Downtime (stop → resume)",
  "Source QEMU's downtime",
  "Stop → answering there",
  "Total",
  "RAM sent",
  "Disk mirrored",
  "RAM back to file (pause)",
  "Dirty rate",
  "Load avg",
];

/** The issue's two migration targets per guest size, judged on the medians, for the bench's target list. */
export function checkMigrationTargets(records: readonly MigrationRecord[]): TargetResult[] {
  const results: TargetResult[] = [];
  for (const size of [...new Set(records.map((r) => r.size.label))]) {
    const ok = records.filter((r) => r.size.label === size && r.error === undefined);
    const idle = summarize(ok.filter((r) => r.load === "idle" && r.mode === "precopy").map((r) => r.downtimeMs));
    if (idle !== undefined)
      results.push({
        verdict: idle.median <= IDLE_PRECOPY_DOWNTIME_TARGET_MS ? "PASS" : "FAIL",
        text: `${size} idle pre-copy downtime ${formatMs(idle.median)} ≤ ${IDLE_PRECOPY_DOWNTIME_TARGET_MS} ms`,
      });
    for (const load of MIGRATION_LOADS) {
      const answering = summarize(ok.filter((r) => r.load === load && r.mode === "postcopy").map((r) => r.answeringMs));
      if (answering !== undefined)
        results.push({
          verdict: answering.median <= POSTCOPY_ANSWERING_TARGET_MS ? "PASS" : "FAIL",
          text: `${size} ${load} post-copy stop → answering ${formatMs(answering.median)} ≤ ${POSTCOPY_ANSWERING_TARGET_MS} ms`,
        });
    }
  }
  return results;
}

/** One row per guest size, load and mode: medians (min–max) over the runs, with the targets where the issue sets one. */
export function renderMigrations(records: readonly MigrationRecord[]): string {
  if (records.length === 0) return "";
  const rows: string[][] = [];
  const sizes = [...new Map(records.map((r) => [r.size.label, r.size])).values()];
  for (const size of sizes) {
    for (const load of MIGRATION_LOADS) {
      for (const mode of MIGRATION_MODES) {
        const own = records.filter((r) => r.size.label === size.label && r.load === load && r.mode === mode);
        if (own.length === 0) continue;
        const ok = own.filter((r) => r.error === undefined);
        const s = (pick: (r: MigrationRecord) => number | undefined): Summary | undefined => summarize(ok.map(pick));
        const downtime = s((r) => r.downtimeMs);
        const answering = s((r) => r.answeringMs);
        const failed = own.length - ok.length;
        rows.push([
          size.label,
          load,
          `${mode}${failed > 0 ? ` ⚠ ${failed}/${own.length} failed: ${own.find((r) => r.error !== undefined)?.error ?? ""}` : ""}`,
          cell(downtime, formatMs) + (load === "idle" && mode === "precopy" ? verdict(downtime, IDLE_PRECOPY_DOWNTIME_TARGET_MS) : ""),
          cell(
            s((r) => r.sourceDowntimeMs),
            formatMs,
          ),
          cell(answering, formatMs) + (mode === "postcopy" ? verdict(answering, POSTCOPY_ANSWERING_TARGET_MS) : ""),
          cell(
            s((r) => r.totalMs),
            formatMs,
          ),
          cell(
            s((r) => r.bytes),
            formatBytes,
          ),
          cell(
            s((r) => r.diskBytes),
            formatBytes,
          ),
          cell(
            s((r) => r.ramSettlePauseMs),
            formatMs,
          ),
          cell(
            s((r) => r.dirtyMiBps),
            (v) => `${v.toFixed(1)} MiB/s`,
          ),
          cell(summarize(own.map((r) => r.loadAverage)), (v) => v.toFixed(1)),
        ]);
      }
    }
  }
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  const align = HEADER.map((_, i) => (i < 3 ? "---" : "---:"));
  const runs = Math.max(...records.map((r) => r.run));
  return (
    `**snapvm migrate between two hosts** (network namespaces on this machine joined by a veth, SSH-forwarded; scripts/test-hosts.sh) — ` +
    `${runs === 1 ? "1 run" : `median of ${runs} runs (min–max)`}; a quarter of the guest's RAM filled; busy: a guest-side writer rewrites ${WRITER_MIB} MiB of random data every ${WRITER_PERIOD_MS} ms ` +
    `(≤ ${((WRITER_MIB * 1000) / WRITER_PERIOD_MS).toFixed(0)} MiB/s; "Dirty rate" is what it reached). ` +
    `Targets: idle pre-copy downtime ≤ ${IDLE_PRECOPY_DOWNTIME_TARGET_MS} ms; post-copy stop → answering ≤ ${POSTCOPY_ANSWERING_TARGET_MS} ms whatever the dirty rate.\n\n` +
    [line(HEADER), `|${align.join("|")}|`, ...rows.map(line)].join("\n")
  );
}
