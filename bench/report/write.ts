import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "../results.ts";
import { svgToPng } from "./png.ts";
import { renderChart } from "./svg-chart.ts";

export interface Written {
  json: string;
  markdown: string;
  svg: string;
  png: string | undefined;
  notes: string[];
}

/** bench/results/<date>.{json,md,svg,png}: every raw run and the machine facts, the tables, the chart. */
export function writeResults(results: BenchResults, tables: string, targets: string, dir: string): Written {
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, results.startedAt.slice(0, 19).replaceAll(":", "-"));
  const written: Written = { json: `${stem}.json`, markdown: `${stem}.md`, svg: `${stem}.svg`, png: undefined, notes: [] };
  writeFileSync(written.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(written.markdown, `${tables}\n\n${targets}\n`);
  writeFileSync(written.svg, renderChart(results));
  const png = svgToPng(written.svg, `${stem}.png`);
  if (png.ok) written.png = `${stem}.png`;
  else written.notes.push(`no PNG: ${png.reason}`);
  return written;
}
