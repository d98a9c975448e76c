import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { WorkerPool } from "../../util/worker-pool.ts";
import { chunkWorker, type ChunkResult, type ChunkTask, type ChunkWorkerData } from "./chunk-worker.ts";
import { CHUNK_SIZE, TAG_SIZE } from "./constants.ts";

/**
 * Chunks per run: 1 MiB of plaintext, ~0.7 ms of ChaCha20-Poly1305 here, so a message to a worker and back
 * (~0.05 ms) is a small part of it, and a few runs in flight keep memory at a few MiB.
 */
export const RUN_CHUNKS = 16;
/** Beyond this many workers the zstd frame workers, the reads and the sink are the limit (1.4–1.7 GB/s each). */
const MAX_WORKERS = 4;
/** For a one-run payload, done here: node:crypto, as a worker requires it. */
const localRequire = createRequire(import.meta.url);
/** Runs in flight per worker: one being worked on, one waiting, so a worker never idles between two. */
const RUNS_PER_WORKER = 2;

interface Entry {
  result?: ChunkResult;
  error?: Error;
  /** Resolves once the result was delivered (or the runs failed or closed). */
  delivered: Promise<void>;
  markDelivered: () => void;
}

function entry(): Entry {
  let markDelivered = (): void => undefined;
  const delivered = new Promise<void>((resolve) => {
    markDelivered = resolve;
  });
  return { delivered, markDelivered };
}

/**
 * Runs of age STREAM chunks sealed or opened on worker threads, results delivered strictly in submission
 * order. Encryption (or decryption) then takes no main-thread time: the main thread only copies bytes into
 * runs and moves buffers. Results wait in the queue while the consumer is full (`canDeliver`), so a slow
 * consumer holds back new runs: memory stays at inFlight runs. A payload of a single run (keys, manifests, small files) is done on the main
 * thread with the same handler, starting no worker. close() MUST be called when the stream ends or fails.
 */
export class ChunkRuns {
  readonly #data: ChunkWorkerData;
  readonly #deliver: (result: ChunkResult) => void;
  readonly #canDeliver: () => boolean;
  readonly #fail: (error: Error) => void;
  readonly #queue: Entry[] = [];
  readonly #workers = Math.min(availableParallelism(), MAX_WORKERS);
  readonly #spare: Buffer<ArrayBuffer>[] = [];
  #pool: WorkerPool<ChunkTask, ChunkResult, ChunkWorkerData> | undefined;
  #submitted = 0;
  #failure: Error | undefined;
  /** The consumer asked for data (a stream's _read): the next result goes even if canDeliver() says no. */
  #wanted = false;

  /**
   * `deliver` gets each result in order (a throw from it fails the runs); `fail` is told the first failure
   * (a worker's crash or a throw from `deliver`) once, and no result is delivered after it. Results are
   * delivered only while `canDeliver()` (the consumer has room); call pump() when it has room again.
   */
  constructor(payloadKey: Uint8Array, deliver: (result: ChunkResult) => void, canDeliver: () => boolean, fail: (error: Error) => void) {
    this.#data = { key: payloadKey, chunkBytes: CHUNK_SIZE, tagBytes: TAG_SIZE };
    this.#deliver = deliver;
    this.#canDeliver = canDeliver;
    this.#fail = fail;
  }

  get inFlight(): number {
    return this.#workers * RUNS_PER_WORKER;
  }

  /** A buffer for one run's input, of its own memory (movable to a worker). */
  buffer(bytes: number): Buffer<ArrayBuffer> {
    const spare = this.#spare.pop();
    return spare !== undefined && spare.length === bytes ? spare : Buffer.allocUnsafeSlow(bytes);
  }

  /** Hands a run's input buffer back once its result is in. */
  recycle(array: Uint8Array<ArrayBuffer>): void {
    if (array.byteOffset === 0 && this.#spare.length < this.inFlight) this.#spare.push(Buffer.from(array.buffer));
  }

  /** Resolves once fewer than inFlight runs are undelivered; rejects once the runs failed. */
  async room(): Promise<void> {
    while (this.#failure === undefined && this.#queue.length >= this.inFlight) await this.#queue[0]?.delivered;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Resolves once every result is delivered; rejects once the runs failed. */
  async drain(): Promise<void> {
    while (this.#failure === undefined && this.#queue.length > 0) await this.#queue[0]?.delivered;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * The consumer asks for data (call it from a stream's _read, which must push eventually): the next result
   * is delivered whatever canDeliver() says. A Readable calls _read before it takes out the bytes it is
   * reading, so its readableLength may still be at the mark then.
   */
  pump(): void {
    this.#wanted = true;
    this.#deliverReady();
  }

  /** `buffer` (from buffer()) moves to a worker; `only` says the payload is this one run. */
  submit(task: ChunkTask, buffer: Buffer<ArrayBuffer>, only: boolean): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#submitted += 1;
    const run = entry();
    this.#queue.push(run);
    if (only && this.#submitted === 1) {
      try {
        run.result = chunkWorker(localRequire, this.#data)(task).result;
      } catch (error) {
        run.error = error instanceof Error ? error : new Error(String(error));
      }
      this.#deliverReady();
      return;
    }
    this.#pool ??= new WorkerPool(chunkWorker, this.#data, this.#workers);
    this.#pool.run(task, [buffer.buffer]).then(
      (result) => {
        run.result = result;
        this.#deliverReady();
      },
      (error: unknown) => {
        run.error = error instanceof Error ? error : new Error(String(error));
        this.#deliverReady();
      },
    );
  }

  #deliverReady(): void {
    while (this.#failure === undefined) {
      const head = this.#queue[0];
      if (head === undefined || (head.result === undefined && head.error === undefined)) return;
      // An error goes at once; a result waits for the consumer's room.
      if (head.error === undefined && !this.#wanted && !this.#canDeliver()) return;
      this.#wanted = false;
      this.#queue.shift();
      try {
        if (head.error !== undefined) throw head.error;
        if (head.result !== undefined) this.#deliver(head.result);
      } catch (error) {
        this.#failure = error instanceof Error ? error : new Error(String(error));
        this.#fail(this.#failure);
        this.#release();
      }
      head.markDelivered();
    }
  }

  /** Wakes every waiter of room() and drain(). */
  #release(): void {
    for (const run of this.#queue.splice(0)) run.markDelivered();
  }

  /** Terminates the workers, if any started. Idempotent. */
  close(): Promise<void> {
    this.#release();
    return this.#pool?.close() ?? Promise.resolve();
  }
}
