import { METHOD_IDS, methodLabel, type MethodId } from "../methods/catalog.ts";
import type { BenchResults, GuestSize } from "../results.ts";
import type { Summary } from "../stats.ts";
import { summarizeRuns, type MethodSummary } from "./summary.ts";
import { formatDecade } from "./format.ts";

const COLORS: Partial<Record<MethodId, string>> = {
  "snapvm-cli": "#d62728",
  "snapvm-api": "#ff7f0e",
  "snapvm-snapshot": "#e377c2",
  "qemu-ignore-shared": "#9467bd",
  "qemu-mapped-ram": "#2ca02c",
  "gist-zstd": "#17becf",
  "gist-gzip": "#1f77b4",
  "cold-boot": "#7f7f7f",
  "snapvm-cold-start": "#bcbd22",
};
/** Fork fan-outs: one brown per count, darker as N grows. */
const FORK_COLORS: Record<number, string> = { 1: "#c49c94", 4: "#8c564b", 16: "#4a2a22", 64: "#201010" };
/** Raw clone fan-outs: one olive per count, beside the forks'. */
const CLONE_COLORS: Record<number, string> = { 1: "#dbdb8d", 4: "#bcbd22", 16: "#7b7c12", 64: "#3d3e08" };
const DASHES: Record<string, string> = { random: "", compressible: "6 4", "-": "2 3" };

const SERIES_SPACING = 5;
const PANEL = { width: 470, height: 330, left: 64, right: 16, top: 40, bottom: 44 };

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

interface Series {
  method: MethodId;
  forks: number | undefined;
  dataCase: string;
  points: { size: GuestSize; value: Summary }[];
}

function colorOf(method: MethodId, forks: number | undefined): string {
  return (forks === undefined ? undefined : (method === "qemu-clones" ? CLONE_COLORS : FORK_COLORS)[forks]) ?? COLORS[method] ?? "#000";
}

/** One series per method, data case and fan-out (fork methods draw one line per count). */
function seriesFor(summaries: readonly MethodSummary[], figure: "answerMs" | "pauseMs"): Series[] {
  const out: Series[] = [];
  for (const method of METHOD_IDS) {
    const fanOuts = [...new Set(summaries.filter((s) => s.method === method).map((s) => s.forks))].sort((a, b) => (a ?? 0) - (b ?? 0));
    for (const forks of fanOuts) {
      for (const dataCase of ["random", "compressible", "-"]) {
        const points = summaries
          .filter((s) => s.method === method && s.forks === forks && s.dataCase === dataCase)
          .flatMap((s) => (s.figures[figure] === undefined ? [] : [{ size: s.size, value: s.figures[figure] }]))
          .sort((a, b) => a.size.bytes - b.size.bytes);
        if (points.length > 0) out.push({ method, forks, dataCase, points });
      }
    }
  }
  return out;
}

/** One panel: y on a log scale (decades), x the guest's RAM on a log scale. */
function panel(title: string, series: readonly Series[], sizes: readonly GuestSize[], offsetX: number): string {
  const values = series.flatMap((s) => s.points.flatMap((p) => [p.value.min, p.value.max])).filter((v) => v > 0);
  if (values.length === 0) return "";
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const logs = sizes.map((s) => Math.log2(s.bytes));
  const xMin = Math.min(...logs);
  const xMax = Math.max(...logs);
  const xAt = (size: GuestSize): number =>
    offsetX + PANEL.left + (xMax === xMin ? plotW / 2 : ((Math.log2(size.bytes) - xMin) / (xMax - xMin)) * plotW * 0.7 + plotW * 0.15);
  const y = (v: number): number => PANEL.top + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  const parts: string[] = [`<text x="${offsetX + PANEL.left}" y="24" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let decade = lo; decade <= hi; decade++) {
    const v = 10 ** decade;
    parts.push(`<line x1="${offsetX + PANEL.left}" x2="${offsetX + PANEL.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${offsetX + PANEL.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${esc(formatDecade(v))}</text>`);
  }
  for (const size of sizes) {
    parts.push(`<text x="${xAt(size)}" y="${PANEL.top + plotH + 18}" font-size="11" text-anchor="middle">${esc(size.label)}</text>`);
  }
  parts.push(`<rect x="${offsetX + PANEL.left}" y="${PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${offsetX + PANEL.left + plotW / 2}" y="${PANEL.height - 6}" font-size="11" text-anchor="middle">guest RAM (log scale)</text>`);
  // Each series is nudged sideways so points and bars at one size do not hide each other.
  series.forEach((s, index) => {
    const color = colorOf(s.method, s.forks);
    const shift = (index - (series.length - 1) / 2) * SERIES_SPACING;
    const x = (size: GuestSize): number => xAt(size) + shift;
    const path = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.size).toFixed(1)},${y(p.value.median).toFixed(1)}`).join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${DASHES[s.dataCase] ?? ""}"/>`);
    for (const p of s.points) {
      const px = x(p.size).toFixed(1);
      if (p.value.max > p.value.min) parts.push(`<line x1="${px}" x2="${px}" y1="${y(p.value.min)}" y2="${y(p.value.max)}" stroke="${color}"/>`);
      parts.push(
        `<circle cx="${px}" cy="${y(p.value.median).toFixed(1)}" r="${s.dataCase === "compressible" ? 3 : 4}" fill="${s.dataCase === "compressible" ? "#fff" : color}" stroke="${color}" stroke-width="1.5"/>`,
      );
    }
  });
  return parts.join("\n");
}

/** Restore → answering and guest pause vs guest RAM, per method; both axes log scale. Hand-written SVG. */
export function renderChart(results: BenchResults): string {
  const summaries = summarizeRuns(results.runs);
  const sizes = [...results.options.sizes].sort((a, b) => a.bytes - b.bytes);
  const restore = seriesFor(summaries, "answerMs");
  const pause = seriesFor(summaries, "pauseMs");
  const lines = new Map<string, { method: MethodId; forks: number | undefined }>();
  for (const s of [...restore, ...pause]) lines.set(`${s.method}×${s.forks ?? ""}`, { method: s.method, forks: s.forks });
  const methods = [...lines.values()].sort((a, b) => METHOD_IDS.indexOf(a.method) - METHOD_IDS.indexOf(b.method) || (a.forks ?? 0) - (b.forks ?? 0));
  const legendTop = PANEL.height + 10;
  const width = PANEL.width * 2;
  const height = legendTop + 24 * Math.ceil(methods.length / 3) + 40;
  const legend = methods.map(({ method, forks }, i) => {
    const lx = 20 + (i % 3) * 315;
    const ly = legendTop + 20 + Math.floor(i / 3) * 24;
    return `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colorOf(method, forks)}" stroke-width="3"/><text x="${lx + 30}" y="${ly}" font-size="12">${esc(forks === undefined ? methodLabel(method) : `${methodLabel(method)} ×${forks} (all answering)`)}</text>`;
  });
  const caseY = legendTop + 24 * Math.ceil(methods.length / 3) + 28;
  const when = `${results.startedAt.slice(0, 16).replace("T", " ")} · ${results.machine.cores} cores · ${results.machine.accel} · ${results.options.runs === 1 ? "1 run" : `median of ${results.options.runs}, bars min–max`} · cache ${results.options.warm ? "warm" : "dropped"}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel("Restore → guest answering", restore, sizes, 0),
    panel("Guest pause on save (until durable)", pause, sizes, PANEL.width),
    ...legend,
    `<text x="20" y="${caseY}" font-size="11" fill="#444">solid ●: random data · dashed ○: compressible data · dotted: no data dependence · ${esc(when)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
