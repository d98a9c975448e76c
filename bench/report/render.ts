import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BenchResults } from "../results.ts";
import { summarizeRuns } from "./summary.ts";
import { renderTables } from "./table.ts";
import { checkTargets } from "./targets.ts";
import { writeResults } from "./write.ts";

/**
 * Re-renders the tables, targets and chart of a finished run from its JSON, without measuring again:
 *   node --import tsx bench/report/render.ts bench/results/<date>.json
 */
const path = process.argv[2];
if (path === undefined) {
  process.stderr.write("usage: node --import tsx bench/report/render.ts RESULTS.json\n");
  process.exitCode = 2;
} else {
  const results = JSON.parse(readFileSync(path, "utf8")) as BenchResults;
  const tables = renderTables(results);
  const targets = checkTargets(summarizeRuns(results.runs), results.options.cases)
    .map((t) => `- ${t.verdict} ${t.text}`)
    .join("\n");
  const written = writeResults(results, tables, `Targets (this run):\n${targets}`, dirname(path));
  process.stdout.write(`${tables}\n\nTargets (this run):\n${targets}\n`);
  for (const note of written.notes) process.stderr.write(`${note}\n`);
}
