import { METHOD_LABELS, type MethodId } from "../methods/catalog.ts";
import type { BenchResults, RunRecord } from "../results.ts";
import { median } from "../stats.ts";
import { formatMs } from "./format.ts";

/** The phases of a resume, from the restore command to the first answer. */
interface Phases {
  before: number;
  qemu: number;
  after: number;
  command: number;
  total: number;
}

const METHODS: readonly MethodId[] = ["snapvm-cli", "snapvm-api", "qemu-ignore-shared"];

function phases(record: RunRecord): Phases | undefined {
  const extra = record.restore?.extra;
  const total = record.restore?.answerMs;
  if (extra === undefined || total === undefined) return undefined;
  if (record.method === "qemu-ignore-shared") {
    const qemu = (extra["spawnMs"] ?? 0) + (extra["loadMs"] ?? 0) + (extra["contToPingMs"] ?? 0);
    return { before: 0, qemu, after: 0, command: extra["pingToAnswerMs"] ?? Number.NaN, total };
  }
  return {
    before: extra["beforeQemuMs"] ?? Number.NaN,
    qemu: extra["qemuToReadyMs"] ?? Number.NaN,
    after: extra["afterReadyMs"] ?? Number.NaN,
    command: extra["probeMs"] ?? Number.NaN,
    total,
  };
}

/**
 * Where a resume's time goes, snapvm against the raw mechanism it drives (medians). The snapvm
 * phases come from the agent's own log and events, so they are exact to a millisecond or so.
 */
export function renderBreakdown(results: BenchResults): string {
  const rows: string[] = [];
  for (const size of results.options.sizes) {
    for (const dataCase of results.options.cases) {
      for (const method of METHODS) {
        const all = results.runs
          .filter((r) => r.size.label === size.label && r.dataCase === dataCase && r.method === method && r.error === undefined)
          .flatMap((r) => {
            const p = phases(r);
            return p === undefined ? [] : [p];
          });
        if (all.length === 0) continue;
        const m = (key: keyof Phases): string => {
          const value = median(all.map((p) => p[key]));
          return Number.isNaN(value) ? "–" : value === 0 ? "0" : formatMs(value);
        };
        rows.push(`| ${size.label} ${dataCase} | ${METHOD_LABELS[method]} | ${m("before")} | ${m("qemu")} | ${m("after")} | ${m("command")} | ${m("total")} |`);
      }
    }
  }
  if (rows.length === 0) return "";
  return [
    "**Where the restore time goes** — medians; before QEMU: CLI and agent start-up, lock, config, state checks; after ready: API server, report, CLI exit",
    "",
    "| Guest | Method | Before QEMU | QEMU spawn → guest ready | After ready | First command | Restore → answering |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
