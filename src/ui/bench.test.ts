import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { benchCharts } from "./bench.ts";

const dir = mkdtempSync(join(tmpdir(), "snapvm-bench-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (method: string, fields: Record<string, unknown>): Record<string, unknown> => ({
  size: { label: "512M" },
  dataCase: "random",
  method,
  run: 1,
  ...fields,
});

test("each chart comes from the newest result that has its figures; medians per method; unreadable files are skipped", async () => {
  assert.deepEqual(await benchCharts(join(dir, "missing")), []);
  writeFileSync(
    join(dir, "2026-01-01T00-00-00.json"),
    JSON.stringify({
      startedAt: "2026-01-01T00:00:00Z",
      runs: [
        run("snapvm-api", { save: { pauseMs: 30 }, restore: { answerMs: 500 } }),
        run("snapvm-api", { save: { pauseMs: 10 }, restore: { answerMs: 700 } }),
        run("snapvm-api", { save: { pauseMs: 20 }, restore: { answerMs: 600 } }),
        run("snapvm-fork", { forks: 4, restore: { answerMs: 2000 } }),
      ],
    }),
  );
  writeFileSync(
    join(dir, "2026-02-01T00-00-00.json"),
    JSON.stringify({
      startedAt: "2026-02-01T00:00:00Z",
      runs: [run("snapvm-export", { variant: "plain", transfer: { totalMs: 1500 }, import: { totalMs: 2500 } })],
    }),
  );
  writeFileSync(join(dir, "2026-03-01T00-00-00.json"), "{ not json");
  const charts = await benchCharts(dir);
  assert.deepEqual(
    charts.map((c) => [c.title, c.source, c.bars]),
    [
      ["Resume: until the guest answers (ms)", "2026-01-01T00-00-00.json", [{ label: "snapvm-api · 512M random", ms: 600, runs: 3 }]],
      ["Save: guest paused (ms)", "2026-01-01T00-00-00.json", [{ label: "snapvm-api · 512M random", ms: 20, runs: 3 }]],
      ["Fork: until every fork answers (ms)", "2026-01-01T00-00-00.json", [{ label: "snapvm-fork ×4 · 512M random", ms: 2000, runs: 1 }]],
      ["Export / offload (ms)", "2026-02-01T00-00-00.json", [{ label: "snapvm-export (plain) · 512M random", ms: 1500, runs: 1 }]],
      ["Import (ms)", "2026-02-01T00-00-00.json", [{ label: "snapvm-export (plain) · 512M random", ms: 2500, runs: 1 }]],
    ],
  );
});
