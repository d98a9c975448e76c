import type { WorkerReply } from "../../util/worker-pool.ts";

/**
 * A run of consecutive STREAM chunks: age's payload nonce is the chunk counter (and a last-chunk flag), so
 * runs are independent and are sealed or opened on worker threads in any order, then put back in order.
 */
export interface ChunkWorkerData {
  /** The payload key, HKDF(file key, payload nonce, "payload"). */
  key: Uint8Array;
  chunkBytes: number;
  tagBytes: number;
}

/** `length` plaintext bytes from chunk `counter` on; `last`: the run's final chunk ends the payload. */
export interface SealTask {
  kind: "seal";
  counter: number;
  plain: Uint8Array<ArrayBuffer>;
  length: number;
  last: boolean;
}
export interface SealResult {
  kind: "seal";
  /** Each chunk's ciphertext followed by its tag. */
  sealed: Uint8Array<ArrayBuffer>;
  /** The task's buffer, moved back for reuse. */
  plain: Uint8Array<ArrayBuffer>;
}

/**
 * `length` bytes of sealed chunks from chunk `counter` on: whole chunks, and, only when `last` (the input
 * ended), a shorter final one.
 */
export interface OpenTask {
  kind: "open";
  counter: number;
  sealed: Uint8Array<ArrayBuffer>;
  length: number;
  last: boolean;
}

/**
 * Why a run stopped before its end, at chunk `faultChunk`:
 * - `unauthenticated`: a whole chunk opens neither as a middle nor as the final chunk;
 * - `after-final`: bytes follow the chunk that opened as final;
 * - `short`: the input ends with a chunk shorter than a tag;
 * - `empty-final`: the input ends with an empty final chunk after other chunks;
 * - `final-unauthenticated`: the input ends with a short chunk that does not open as the final one;
 * - `truncated`: the input ends after whole chunks, none of them final.
 */
export type OpenFault = "unauthenticated" | "after-final" | "short" | "empty-final" | "final-unauthenticated" | "truncated";

export interface OpenResult {
  kind: "open";
  /** The task's counter and length. */
  counter: number;
  length: number;
  /** The authenticated plaintext of the chunks before any fault: plain[0, plainLength). */
  plain: Uint8Array<ArrayBuffer>;
  plainLength: number;
  /** A chunk of the run opened as the final chunk. */
  final: boolean;
  fault?: OpenFault;
  faultChunk?: number;
  /** The task's buffer, moved back for reuse. */
  sealed: Uint8Array<ArrayBuffer>;
}

export type ChunkTask = SealTask | OpenTask;
export type ChunkResult = SealResult | OpenResult;

/**
 * The chunk workers' handler (a WorkerSetup: it runs from its source text, so it uses nothing from this
 * module but types). The main thread calls it too, for a payload of one run, where a worker's start
 * (~30 ms) would cost more than the work. Plaintext is released only once its chunk's tag authenticates.
 */
export function chunkWorker(require: NodeJS.Require, data: ChunkWorkerData): (task: ChunkTask) => WorkerReply<ChunkResult> {
  const { createCipheriv, createDecipheriv, createSecretKey } = require("node:crypto") as typeof import("node:crypto");
  const key = createSecretKey(Buffer.from(data.key));
  const nonce = Buffer.alloc(12);
  const chunkBytes = data.chunkBytes;
  const tagBytes = data.tagBytes;
  const sealedChunkBytes = chunkBytes + tagBytes;
  const options = { authTagLength: tagBytes };

  const nonceFor = (counter: number, last: boolean): Buffer => {
    if (counter >= 2 ** 48) throw new RangeError("age: STREAM chunk counter exhausted");
    nonce.writeUIntBE(counter, 5, 6);
    nonce[11] = last ? 1 : 0;
    return nonce;
  };

  const seal = (task: SealTask): WorkerReply<ChunkResult> => {
    const plain = Buffer.from(task.plain.buffer, task.plain.byteOffset, task.length);
    // Empty input is one empty final chunk; otherwise no chunk is empty.
    const chunks = Math.max(1, Math.ceil(plain.length / chunkBytes));
    const sealed = Buffer.allocUnsafeSlow(plain.length + chunks * tagBytes);
    let at = 0;
    for (let i = 0; i < chunks; i++) {
      const cipher = createCipheriv("chacha20-poly1305", key, nonceFor(task.counter + i, task.last && i === chunks - 1), options);
      at += cipher.update(plain.subarray(i * chunkBytes, (i + 1) * chunkBytes)).copy(sealed, at);
      cipher.final();
      at += cipher.getAuthTag().copy(sealed, at);
    }
    return { result: { kind: "seal", sealed, plain: task.plain }, transfer: [sealed.buffer, task.plain.buffer] };
  };

  const tryOpen = (chunk: Buffer, counter: number, last: boolean): Buffer | undefined => {
    const decipher = createDecipheriv("chacha20-poly1305", key, nonceFor(counter, last), options);
    decipher.setAuthTag(chunk.subarray(chunk.length - tagBytes));
    const plain = decipher.update(chunk.subarray(0, chunk.length - tagBytes));
    try {
      decipher.final();
    } catch {
      return undefined; // OpenSSL's only failure here is a tag mismatch
    }
    return plain;
  };

  const open = (task: OpenTask): WorkerReply<ChunkResult> => {
    const sealed = Buffer.from(task.sealed.buffer, task.sealed.byteOffset, task.length);
    const plain = Buffer.allocUnsafeSlow(Math.max(1, task.length));
    let plainLength = 0;
    let final = false;
    const reply = (fault?: OpenFault, faultChunk?: number): WorkerReply<ChunkResult> => ({
      result: {
        kind: "open",
        counter: task.counter,
        length: task.length,
        plain,
        plainLength,
        final,
        ...(fault === undefined || faultChunk === undefined ? {} : { fault, faultChunk }),
        sealed: task.sealed,
      },
      transfer: [plain.buffer, task.sealed.buffer],
    });
    let at = 0;
    let counter = task.counter;
    while (at < sealed.length) {
      if (final) return reply("after-final", counter);
      const chunk = sealed.subarray(at, at + sealedChunkBytes);
      let opened: Buffer | undefined;
      if (chunk.length === sealedChunkBytes) {
        // The final chunk may be full: a whole chunk that is not a middle one may still be the last.
        opened = tryOpen(chunk, counter, false);
        if (opened === undefined) {
          opened = tryOpen(chunk, counter, true);
          if (opened === undefined) return reply("unauthenticated", counter);
          final = true;
        }
      } else {
        if (!task.last) throw new Error("age: a short chunk in a run that does not end the input");
        if (chunk.length < tagBytes) return reply("short", counter);
        if (chunk.length === tagBytes && counter > 0) return reply("empty-final", counter);
        opened = tryOpen(chunk, counter, true);
        if (opened === undefined) return reply("final-unauthenticated", counter);
        final = true;
      }
      plainLength += opened.copy(plain, plainLength);
      at += chunk.length;
      counter++;
    }
    if (task.last && !final) return reply("truncated", counter);
    return reply();
  };

  return (task) => (task.kind === "seal" ? seal(task) : open(task));
}
