import { METHOD_LABELS, TRANSFER_METHOD_IDS, type MethodId } from "../methods/catalog.ts";
import { TRANSFER_VARIANTS, type TransferVariant } from "../methods/types.ts";
import type { BenchResults } from "../results.ts";
import type { Summary } from "../stats.ts";
import { formatBytes, formatMs } from "./format.ts";
import { summarizeTransfers, transferVerdicts, type TransferFigure, type TransferSummary } from "./transfer-summary.ts";

const LABELS: Partial<Record<MethodId, Record<TransferVariant, string>>> = {
  "snapvm-export": { plain: "snapvm snapshot export → import", encrypted: "snapvm snapshot export --recipient → import --identity" },
  "diy-export": { plain: "DIY: cp --sparse=always; tar -cS | zstd -T0 -3", encrypted: "DIY: cp --sparse=always; tar -cS | zstd -T0 -3 | age -r" },
  "snapvm-offload": { plain: "snapvm snapshot create --to (live offload) → import", encrypted: "snapvm snapshot create --to --recipient → import --identity" },
};

const HEADER = [
  "Method",
  "Guest pause",
  "Out: total",
  "State data",
  "MiB/s",
  "Output on disk (alloc / apparent)",
  "Back: import / unpack",
  "Restore → answering",
  "QEMU RSS",
  "Read back all",
  "Memory check",
];

/** A method's variant-less row (it failed before its first variant) first, then plain, then encrypted. */
function order(variant: TransferVariant | undefined): number {
  return variant === undefined ? -1 : TRANSFER_VARIANTS.indexOf(variant);
}

function cell(summary: Summary | undefined, format: (v: number) => string, spread: boolean): string {
  if (summary === undefined) return "–";
  if (!spread || summary.n === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

function row(s: TransferSummary): string[] {
  const f = (figure: TransferFigure, format: (v: number) => string, spread = false): string => cell(s.figures[figure], format, spread);
  const label = s.variant === undefined ? METHOD_LABELS[s.method] : (LABELS[s.method]?.[s.variant] ?? `${METHOD_LABELS[s.method]} (${s.variant})`);
  const why = s.errors[0] ?? s.skipped[0];
  const check = s.checks.failed > 0 ? `FAILED ${s.checks.failed}/${s.checks.ok + s.checks.failed}` : s.checks.ok > 0 ? "ok" : "–";
  return [
    `${label}${why === undefined ? "" : ` ${s.errors.length > 0 ? "⚠" : "—"} ${why}`}`,
    f("pauseMs", formatMs, true),
    f("totalMs", formatMs, true),
    f("dataBytes", formatBytes),
    f("mibPerSecond", (v) => v.toFixed(0)),
    s.figures.outputAllocatedBytes === undefined ? "–" : `${f("outputAllocatedBytes", formatBytes)} / ${f("outputApparentBytes", formatBytes)}`,
    f("importMs", formatMs, true),
    f("answerMs", formatMs, true),
    f("qemuRssKiB", (v) => formatBytes(v * 1024)),
    f("verifyMs", formatMs),
    check,
  ];
}

function markdown(rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  const align = HEADER.map((_, i) => (i === 0 ? "---" : i === HEADER.length - 1 ? ":---:" : "---:"));
  return [line(HEADER), `|${align.join("|")}|`, ...rows.map(line)].join("\n");
}

/**
 * One table per guest size and data case for the transfer methods: out (export, offload or the DIY
 * pipeline) and back (import into a second home and start, or unpack), then the verdicts on snapvm
 * against the baseline measured in the same run.
 */
export function renderTransfers(results: BenchResults): string {
  const summaries = summarizeTransfers(results.runs);
  if (summaries.length === 0) return "";
  const out: string[] = [];
  for (const size of results.options.sizes) {
    for (const dataCase of results.options.cases) {
      const rows = TRANSFER_METHOD_IDS.flatMap((method) =>
        summaries
          .filter((s) => s.size.label === size.label && s.dataCase === dataCase && s.method === method)
          .sort((a, b) => order(a.variant) - order(b.variant))
          .map(row),
      );
      if (rows.length === 0) continue;
      const runs = results.options.runs === 1 ? "1 run" : `median of ${results.options.runs} runs (min–max)`;
      const verdicts = transferVerdicts(summaries, results.runs, size, dataCase).map((v) => `- ${v.verdict} ${v.text}`);
      out.push(
        [
          `**${size.label} guest, ${formatBytes(Math.floor(size.bytes / 2))} dirtied with ${dataCase} data: snapshot state out to a file and back** — ${runs}, page cache ${results.options.warm ? "warm" : "dropped before each step"}; state data: what was read (holes not counted), MiB/s over the out total`,
          "",
          markdown(rows),
          ...(verdicts.length > 0 ? ["", ...verdicts] : []),
        ].join("\n"),
      );
    }
  }
  return out.join("\n\n");
}
