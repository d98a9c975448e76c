import { availableParallelism } from "node:os";
import { WorkerPool } from "../util/worker-pool.ts";
import { BUNDLE_LIMITS, DATA_HEAD_BYTES, FRAME_BYTES, RECORD_HEAD_BYTES, RecordKind } from "./format.ts";
import { frameWorker, type FrameResult, type FrameTask, type FrameWorkerData } from "./frame-worker.ts";
import { ZSTD_BINDING_PATH } from "./zstd.ts";

/** Non-zero runs are found, and written on import, in blocks of this size: holes finer than a frame survive. */
export const WRITE_BLOCK_BYTES = 64 * 1024;

/** Frames in flight per worker: one being worked on, one waiting, so a worker never idles between two. */
const FRAMES_PER_WORKER = 2;
/**
 * One worker per CPU, up to this: memory stays near MAX_WORKERS × FRAMES_PER_WORKER × (raw + compressed frame)
 * ≈ 128 MiB on a large host, where the main thread's reads, encryption and writes are the limit by then.
 */
const MAX_WORKERS = 8;

export interface CompressedFrame {
  /** The whole DATA record, head and body. */
  record: Buffer<ArrayBuffer>;
  digest: string;
}

export interface DecodedFrame {
  ok: boolean;
  digest: string;
  /** The raw bytes (valid when ok); hand it back with releaseRaw() once written. */
  raw: Buffer<ArrayBuffer>;
  runs: number[];
}

/** Frames in flight are dropped unawaited when a stream fails: their rejection must not go unhandled. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function view(array: Uint8Array<ArrayBuffer>, length = array.byteLength): Buffer<ArrayBuffer> {
  return Buffer.from(array.buffer, array.byteOffset, length);
}

/**
 * zstd and SHA-256 of DATA frames on worker threads (docs/bundle-format.md, Frames): the one CPU-heavy part
 * of writing and reading a bundle. Callers keep at most `inFlight` frames submitted and await them in order;
 * frame buffers move to a worker and back (no copy) and are recycled, so memory stays at a few frames per
 * worker. Workers start on first use; close() MUST be called when the stream ends or fails.
 */
export class FramePool {
  readonly #pool: WorkerPool<FrameTask, FrameResult, FrameWorkerData>;
  readonly inFlight: number;
  readonly #raws: Buffer<ArrayBuffer>[] = [];
  readonly #bodies: Buffer<ArrayBuffer>[] = [];

  constructor(workers = Math.min(availableParallelism(), MAX_WORKERS)) {
    const data: FrameWorkerData = {
      zstdBinding: ZSTD_BINDING_PATH,
      dataKind: RecordKind.Data,
      recordHeadBytes: RECORD_HEAD_BYTES,
      dataHeadBytes: DATA_HEAD_BYTES,
      blockBytes: WRITE_BLOCK_BYTES,
    };
    this.#pool = new WorkerPool(frameWorker, data, workers);
    this.inFlight = this.#pool.size * FRAMES_PER_WORKER;
  }

  /** A FRAME_BYTES buffer of its own memory (movable to a worker). */
  rawBuffer(): Buffer<ArrayBuffer> {
    return this.#raws.pop() ?? Buffer.allocUnsafeSlow(FRAME_BYTES);
  }

  releaseRaw(raw: Buffer<ArrayBuffer>): void {
    this.#keep(this.#raws, raw, FRAME_BYTES);
  }

  /** A buffer for one DATA body of the largest size a reader accepts. */
  bodyBuffer(): Buffer<ArrayBuffer> {
    return this.#bodies.pop() ?? Buffer.allocUnsafeSlow(BUNDLE_LIMITS.dataRecordBytes);
  }

  #keep(list: Buffer<ArrayBuffer>[], buffer: Buffer<ArrayBuffer>, bytes: number): void {
    if (buffer.buffer.byteLength === bytes && list.length <= this.inFlight) list.push(Buffer.from(buffer.buffer, 0, bytes));
  }

  /** `raw` (from rawBuffer(), holding `raw.length` bytes of the file at `offset`) is released to the pool. */
  compress(offset: number, raw: Buffer<ArrayBuffer>, level: number): Promise<CompressedFrame> {
    return handled(
      this.#pool.run({ kind: "compress", offset, raw, level }, [raw.buffer]).then((result) => {
        if (result.kind !== "compress") throw new Error("a frame worker answered a compress task with a decode result");
        this.releaseRaw(view(result.raw));
        return { record: view(result.record), digest: result.digest };
      }),
    );
  }

  /** `body` (from bodyBuffer(), holding one DATA body) is released to the pool. */
  decode(body: Buffer<ArrayBuffer>, rawLength: number): Promise<DecodedFrame> {
    const target = this.rawBuffer();
    return handled(
      this.#pool.run({ kind: "decode", body, rawLength, target }, [body.buffer, target.buffer]).then((result) => {
        if (result.kind !== "decode") throw new Error("a frame worker answered a decode task with a compress result");
        this.#keep(this.#bodies, view(result.body), BUNDLE_LIMITS.dataRecordBytes);
        return { ok: result.ok, digest: result.digest, raw: view(result.raw, rawLength), runs: result.runs };
      }),
    );
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
