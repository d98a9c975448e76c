import { availableParallelism } from "node:os";
import { Worker, type Transferable } from "node:worker_threads";

/** What a worker's handler returns: the result, and the buffers to move (not copy) back to the caller. */
export interface WorkerReply<Result> {
  result: Result;
  transfer?: Transferable[];
}

/**
 * Builds a worker's task handler, once per worker. It runs from its source text (Function.prototype.toString)
 * in an eval'd worker, so the pool works from tsx, from tsc's output and from the esbuild bundle alike, with no
 * worker file to ship: it MUST use nothing from its module (imports, constants, helpers), only its parameters
 * and globals. `require` is the worker's own; give it absolute paths.
 */
export type WorkerSetup<Task, Result, Data> = (require: NodeJS.Require, data: Data) => (task: Task) => WorkerReply<Result>;

type Reply<Result> = { id: number; result: Result } | { id: number; error: string };

interface Slot {
  worker: Worker;
  /** Tasks posted and not answered: the worker holds the event loop open only while this is above 0. */
  outstanding: number;
}

interface Pending<Result> {
  slot: Slot;
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

let liveWorkers = 0;

/** Workers started by any pool and not yet exited (tests check that a failed stream leaves none). */
export function liveWorkerCount(): number {
  return liveWorkers;
}

function workerSource(setup: string): string {
  return [
    '"use strict";',
    // tsx compiles with esbuild's keepNames, which wraps named functions in __name(); an eval'd worker has no such helper.
    "const __name = (target) => target;",
    'const { parentPort, workerData } = require("node:worker_threads");',
    `const handle = (${setup})(require, workerData);`,
    'parentPort.on("message", ({ id, task }) => {',
    "  let reply;",
    "  try {",
    "    reply = handle(task);",
    "  } catch (error) {",
    "    parentPort.postMessage({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });",
    "    return;",
    "  }",
    "  parentPort.postMessage({ id, result: reply.result }, reply.transfer ?? []);",
    "});",
  ].join("\n");
}

/**
 * A fixed set of worker threads (started on first use, up to `size`, default one per available CPU) running
 * one handler. Each task goes to the least busy worker; results come back as promises, which callers await in
 * the order they need (a worker answers its own tasks in order). A pool never keeps the process alive while
 * idle, and a rejected task never goes unhandled if its caller has gone. Any worker's crash fails the pool:
 * every pending and later task rejects. close() terminates the workers; call it when done, on failure too.
 */
export class WorkerPool<Task, Result, Data = unknown> {
  readonly size: number;
  readonly #source: string;
  readonly #data: Data;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending<Result>>();
  #nextId = 0;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor(setup: WorkerSetup<Task, Result, Data>, data: Data, size = availableParallelism()) {
    this.size = Math.max(1, Math.floor(size));
    this.#source = workerSource(setup.toString());
    this.#data = data;
  }

  /** Runs one task; the buffers in `transfer` move to the worker and are unusable here after the call. */
  run(task: Task, transfer: readonly Transferable[] = []): Promise<Result> {
    const promise = this.#post(task, transfer);
    promise.catch(() => undefined); // the caller may have stopped listening (a destroyed stream); its await still sees the error
    return promise;
  }

  #post(task: Task, transfer: readonly Transferable[]): Promise<Result> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing !== undefined) return Promise.reject(new Error("the worker pool is closed"));
    const slot = this.#pick();
    const id = this.#nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.#pending.set(id, { slot, resolve, reject });
      if (slot.outstanding++ === 0) slot.worker.ref();
      try {
        slot.worker.postMessage({ id, task }, [...transfer]);
      } catch (error) {
        this.#settle(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  #pick(): Slot {
    let best: Slot | undefined;
    for (const slot of this.#slots) if (best === undefined || slot.outstanding < best.outstanding) best = slot;
    if (best !== undefined && (best.outstanding === 0 || this.#slots.length >= this.size)) return best;
    return this.#start();
  }

  #start(): Slot {
    const worker = new Worker(this.#source, { eval: true, workerData: this.#data, execArgv: [] });
    liveWorkers += 1;
    const slot: Slot = { worker, outstanding: 0 };
    worker.unref();
    worker.on("message", (reply: Reply<Result>) => {
      const pending = this.#settle(reply.id);
      if (pending === undefined) return;
      if ("error" in reply) pending.reject(new Error(`a worker task failed: ${reply.error}`));
      else pending.resolve(reply.result);
    });
    worker.on("error", (error) => {
      this.#fail(new Error("a worker of the pool failed", { cause: error }));
    });
    worker.on("messageerror", (error) => {
      this.#fail(new Error("a worker's reply could not be read", { cause: error }));
    });
    worker.once("exit", (code) => {
      liveWorkers -= 1;
      if (this.#closing === undefined) this.#fail(new Error(`a worker of the pool exited (code ${code})`));
    });
    this.#slots.push(slot);
    return slot;
  }

  #settle(id: number): Pending<Result> | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    if (--pending.slot.outstanding === 0) pending.slot.worker.unref();
    return pending;
  }

  #rejectAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id)?.reject(error);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined || this.#closing !== undefined) return;
    this.#failure = error;
    this.#rejectAll(error);
    void this.close();
  }

  /** Terminates every worker; pending tasks reject. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#rejectAll(this.#failure ?? new Error("the worker pool was closed"));
      await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
    })();
    return this.#closing;
  }
}
