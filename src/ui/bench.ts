import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { isErrno } from "../errors/index.ts";
import type { UiBenchChart } from "./wire.ts";

/** The fields of a bench result (bench/run.ts) the charts read; anything else in it is ignored. */
const Run = z.object({
  size: z.object({ label: z.string() }),
  dataCase: z.string(),
  method: z.string(),
  variant: z.string().optional(),
  forks: z.number().optional(),
  save: z.object({ pauseMs: z.number() }).optional(),
  restore: z.object({ answerMs: z.number() }).optional(),
  transfer: z.object({ totalMs: z.number() }).optional(),
  import: z.object({ totalMs: z.number() }).optional(),
});
type Run = z.infer<typeof Run>;
const Result = z.object({ startedAt: z.string(), runs: z.array(z.unknown()) });

interface ResultFile {
  file: string;
  startedAt: string;
  runs: Run[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function label(run: Run): string {
  const what = `${run.method}${run.variant === undefined ? "" : ` (${run.variant})`}${run.forks === undefined ? "" : ` ×${run.forks}`}`;
  return `${what} · ${run.size.label}${run.dataCase === "-" ? "" : ` ${run.dataCase}`}`;
}

/** Median of `pick` per label, in the order the runs came. */
function chart(title: string, result: ResultFile, pick: (run: Run) => number | undefined): UiBenchChart {
  const groups = new Map<string, number[]>();
  for (const run of result.runs) {
    const value = pick(run);
    if (value !== undefined) groups.set(label(run), [...(groups.get(label(run)) ?? []), value]);
  }
  return {
    title,
    source: result.file,
    startedAt: result.startedAt,
    bars: [...groups].map(([name, values]) => ({ label: name, ms: Math.round(median(values) * 10) / 10, runs: values.length })),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Result files, newest first; an unreadable one is skipped (the charts are a view, not a check). */
async function readResults(dir: string): Promise<ResultFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir))
      .filter((n) => n.endsWith(".json"))
      .sort()
      .reverse();
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
  const results: ResultFile[] = [];
  for (const file of names) {
    const parsed = Result.safeParse(parseJson(await readFile(join(dir, file), "utf8").catch(() => "null")));
    if (!parsed.success) continue;
    const runs = parsed.data.runs.flatMap((r) => {
      const run = Run.safeParse(r);
      return run.success ? [run.data] : [];
    });
    results.push({ file, startedAt: parsed.data.startedAt, runs });
  }
  return results;
}

/**
 * The performance view: for each kind of figure, the newest result that has it (a bench run may measure
 * only exports, another only suspend/resume): restore and pause per method, forks, export and import.
 */
export async function benchCharts(dir: string): Promise<UiBenchChart[]> {
  const results = await readResults(dir);
  const newest = (has: (run: Run) => boolean): ResultFile | undefined => results.find((r) => r.runs.some(has));
  const charts: UiBenchChart[] = [];
  const saves = newest((r) => r.save !== undefined);
  if (saves !== undefined) {
    charts.push(chart("Resume: until the guest answers (ms)", saves, (r) => (r.method === "snapvm-fork" ? undefined : r.restore?.answerMs)));
    charts.push(chart("Save: guest paused (ms)", saves, (r) => r.save?.pauseMs));
  }
  const forks = newest((r) => r.method === "snapvm-fork");
  if (forks !== undefined)
    charts.push(chart("Fork: until every fork answers (ms)", forks, (r) => (r.method === "snapvm-fork" ? r.restore?.answerMs : undefined)));
  const transfers = newest((r) => r.transfer !== undefined);
  if (transfers !== undefined) {
    charts.push(chart("Export / offload (ms)", transfers, (r) => r.transfer?.totalMs));
    charts.push(chart("Import (ms)", transfers, (r) => r.import?.totalMs));
  }
  return charts.filter((c) => c.bars.length > 0);
}
