import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { liveWorkerCount, WorkerPool, type WorkerReply } from "./worker-pool.ts";

type Task = { op: "double"; bytes: Uint8Array<ArrayBuffer> } | { op: "throw" } | { op: "exit" } | { op: "wait"; ms: number };

/** Runs in the workers from its text: nothing from this module. */
function setup(_require: NodeJS.Require, data: { factor: number }): (task: Task) => WorkerReply<number[]> {
  return (task) => {
    if (task.op === "throw") throw new Error("asked to throw");
    if (task.op === "exit") process.exit(3);
    if (task.op === "wait") {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, task.ms);
      return { result: [] };
    }
    return { result: [...task.bytes].map((b) => b * data.factor) };
  };
}

async function noWorkersLeft(): Promise<void> {
  for (let i = 0; i < 100 && liveWorkerCount() > 0; i++) await sleep(20);
  assert.equal(liveWorkerCount(), 0, "every worker exited");
}

test("results come back per task, in the caller's order, and moved buffers leave the caller", async () => {
  const pool = new WorkerPool(setup, { factor: 3 }, 2);
  try {
    const buffers = [1, 2, 3, 4, 5].map((n) => new Uint8Array([n, n + 1]));
    const results = buffers.map((bytes) => pool.run({ op: "double", bytes }, [bytes.buffer]));
    assert.equal(buffers[0]?.byteLength, 0, "the buffer moved to the worker");
    assert.deepEqual(await Promise.all(results), [
      [3, 6],
      [6, 9],
      [9, 12],
      [12, 15],
      [15, 18],
    ]);
  } finally {
    await pool.close();
  }
  await noWorkersLeft();
});

test("a task that throws rejects alone; the pool goes on", async () => {
  const pool = new WorkerPool(setup, { factor: 1 }, 1);
  try {
    await assert.rejects(pool.run({ op: "throw" }), /a worker task failed: Error: asked to throw/);
    assert.deepEqual(await pool.run({ op: "double", bytes: new Uint8Array([7]) }), [7]);
  } finally {
    await pool.close();
  }
});

test("a worker that dies fails every pending and later task, with no unhandled rejection", async () => {
  const pool = new WorkerPool(setup, { factor: 1 }, 1);
  const slow = pool.run({ op: "wait", ms: 200 });
  const dropped = pool.run({ op: "double", bytes: new Uint8Array([1]) }); // nobody awaits this one
  void dropped;
  const exit = pool.run({ op: "exit" });
  await slow;
  await assert.rejects(exit, /exited \(code 3\)/);
  await assert.rejects(pool.run({ op: "double", bytes: new Uint8Array([1]) }), /exited \(code 3\)/);
  await pool.close();
  await noWorkersLeft();
});

test("close() terminates busy workers and rejects what they had", async () => {
  const pool = new WorkerPool(setup, { factor: 1 }, 2);
  const pending = [pool.run({ op: "wait", ms: 5000 }), pool.run({ op: "wait", ms: 5000 })];
  await sleep(50);
  const started = Date.now();
  await pool.close();
  for (const task of pending) await assert.rejects(task, /the worker pool was closed/);
  assert.ok(Date.now() - started < 2000, "close did not wait for the tasks");
  await assert.rejects(pool.run({ op: "wait", ms: 1 }), /the worker pool is closed/);
  await noWorkersLeft();
});
