import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import type { FuzzMessage, FuzzOutcome, FuzzWorkerInput } from "./fixtures/fuzz-worker.ts";

const CASES = 2000;
/** Each case is one decode of ≤ 340 KB: a few ms. A case near this bound means a loop went wrong. */
const PER_CASE_MS = 1000;
/** The whole run; past it the worker is terminated and the case it was on is reported. */
const TOTAL_MS = 120_000;
const SEED = Number(process.env["SNAPVM_FUZZ_SEED"] ?? 20_250_601);

/**
 * The worker is TypeScript: register tsx inside it, as the test runner's --import does not reach
 * worker threads on Node 20.
 */
function runWorker(input: FuzzWorkerInput): Promise<FuzzOutcome[]> {
  const url = new URL("fixtures/fuzz-worker.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const worker = new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`, {
    eval: true,
    workerData: input,
  });
  let current = -1;
  return new Promise<FuzzOutcome[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`fuzz case ${current} (seed ${input.seed}) did not finish: the decoder hung or the run exceeded ${TOTAL_MS} ms`));
    }, TOTAL_MS);
    worker.on("message", (message: FuzzMessage) => {
      if ("started" in message) current = message.started;
      else {
        clearTimeout(timer);
        void worker.terminate();
        resolve(message.done);
      }
    });
    worker.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

test(`fuzz: ${CASES} damaged streams each decode or throw StateInvalid with an offset, within ${PER_CASE_MS} ms`, { timeout: TOTAL_MS + 10_000 }, async (t) => {
  const outcomes = await runWorker({ seed: SEED, cases: CASES });
  assert.equal(outcomes.length, CASES);
  const bugs = outcomes.filter((o) => o.outcome === "bug");
  assert.deepEqual(bugs.slice(0, 3), [], `seed ${SEED}: decoder threw something other than SnapvmError(StateInvalid)`);
  const slow = outcomes.filter((o) => o.ms > PER_CASE_MS);
  assert.deepEqual(slow, [], `seed ${SEED}: cases over ${PER_CASE_MS} ms`);

  const tally = new Map<string, number>();
  for (const o of outcomes) tally.set(`${o.kind}/${o.outcome}`, (tally.get(`${o.kind}/${o.outcome}`) ?? 0) + 1);
  t.diagnostic(`seed ${SEED}; ${[...tally].map(([k, n]) => `${k}: ${n}`).join(", ")}; slowest ${Math.max(...outcomes.map((o) => o.ms)).toFixed(1)} ms`);
  // Both paths must be exercised, or the fuzz proves nothing.
  assert.ok((tally.get("truncate/refused") ?? 0) > 0 && (tally.get("flip/decoded") ?? 0) > 0 && (tally.get("flip-vmdesc-json/refused") ?? 0) > 0);
});
