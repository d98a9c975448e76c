import { Transform, type TransformCallback } from "node:stream";
import type { SnapvmError } from "../../errors/index.ts";
import { ChunkRuns, RUN_CHUNKS } from "./chunk-runs.ts";
import type { ChunkResult, OpenFault } from "./chunk-worker.ts";
import { ENCRYPTED_CHUNK_SIZE, MAX_HEADER_SIZE, PAYLOAD_NONCE_SIZE } from "./constants.ts";
import { decryptError } from "./errors.ts";
import { unwrapFileKey } from "./file-key.ts";
import { headerMacMatches } from "./header-mac.ts";
import { canStartHeader, HeaderEndFinder, parseHeader } from "./header-parse.ts";
import type { Identity } from "./keys.ts";
import { hkdf32 } from "./primitives.ts";

const RUN_BYTES = RUN_CHUNKS * ENCRYPTED_CHUNK_SIZE;

/**
 * age v1 file in, plaintext out. Guarantees:
 * - a chunk's plaintext is pushed only after its tag authenticates;
 * - the end of input without an authenticated final chunk is an error (truncation), and so is any byte
 *   after the final chunk or an empty final chunk after other chunks;
 * - memory is bounded: the header is capped at MAX_HEADER_SIZE, the payload at the run being filled and
 *   ChunkRuns' runs in flight (runs of RUN_CHUNKS chunks are opened on worker threads, in order).
 * Errors are SnapvmErrors: E_DECRYPT_FAILED (details.stage header | mac | payload) or E_WRONG_KEY.
 */
class DecryptStream extends Transform {
  readonly #identities: readonly Identity[];
  /** Header bytes (and whatever followed them) until the header and the payload nonce are complete. */
  #head: Buffer = Buffer.allocUnsafe(MAX_HEADER_SIZE + PAYLOAD_NONCE_SIZE);
  #headLength = 0;
  readonly #headerEndFinder = new HeaderEndFinder();
  #headerEnd: number | undefined;
  #runs: ChunkRuns | undefined;
  #run: Buffer<ArrayBuffer> | undefined;
  #runLength = 0;
  /** The counter of the run being filled. */
  #counter = 0;
  #finalSeen = false;

  constructor(identities: readonly Identity[]) {
    super();
    this.#identities = [...identities];
  }

  override _read(size: number): void {
    this.#runs?.pump();
    super._read(size);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    (this.#runs !== undefined ? this.#payload(data) : this.#header(data)).then(() => {
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#finish().then(() => {
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    (this.#runs?.close() ?? Promise.resolve()).then(
      () => {
        callback(error);
      },
      () => {
        callback(error);
      },
    );
  }

  /**
   * Collects header and nonce into a fixed buffer (linear time even for a byte-at-a-time input, and
   * never more than MAX_HEADER_SIZE + 16 bytes), then unwraps the file key and checks the MAC.
   */
  async #header(data: Buffer): Promise<void> {
    const taken = Math.min(this.#head.length - this.#headLength, data.length);
    data.copy(this.#head, this.#headLength, 0, taken);
    this.#headLength += taken;
    const head = this.#head.subarray(0, this.#headLength);
    if (!canStartHeader(head)) throw decryptError("header", "not an age file (no age-encryption.org/ line)");
    this.#headerEnd ??= this.#headerEndFinder.find(head);
    const end = this.#headerEnd;
    if (end === undefined) {
      if (this.#headLength >= MAX_HEADER_SIZE) throw decryptError("header", `header is larger than ${MAX_HEADER_SIZE} bytes`);
      return;
    }
    if (this.#headLength < end + PAYLOAD_NONCE_SIZE) return;
    const header = parseHeader(head.subarray(0, end));
    const fileKey = await unwrapFileKey(header.stanzas, this.#identities);
    if (!headerMacMatches(fileKey, header.macInput, header.mac)) {
      throw decryptError("mac", "header MAC does not match: the header was modified");
    }
    this.#runs = new ChunkRuns(
      hkdf32(fileKey, head.subarray(end, end + PAYLOAD_NONCE_SIZE), "payload"),
      (result) => {
        this.#opened(result);
      },
      () => this.readableLength < this.readableHighWaterMark,
      (error) => this.destroy(error),
    );
    await this.#payload(head.subarray(end + PAYLOAD_NONCE_SIZE));
    await this.#payload(data.subarray(taken));
    this.#head = Buffer.alloc(0);
  }

  #runsOrThrow(): ChunkRuns {
    if (this.#runs === undefined) throw new Error("age: payload before header");
    return this.#runs;
  }

  /**
   * A run's authenticated plaintext, in order. A whole chunk that is not a middle chunk may be the final one
   * (the final chunk may be full); any byte after the final chunk is an error.
   */
  #opened(result: ChunkResult): void {
    if (result.kind !== "open") throw new Error("age: a chunk worker answered an open with a seal result");
    if (this.#finalSeen && result.length > 0) throw decryptError("payload", "data after the final chunk", { details: { chunk: result.counter } });
    if (result.plainLength > 0) this.push(Buffer.from(result.plain.buffer, result.plain.byteOffset, result.plainLength));
    this.#runsOrThrow().recycle(result.sealed);
    if (result.fault !== undefined) throw faultError(result.fault, result.faultChunk ?? result.counter);
    if (result.final) this.#finalSeen = true;
  }

  /** Whole runs go to the workers as they fill; the rest waits for more input or the end. */
  async #payload(data: Buffer): Promise<void> {
    const runs = this.#runsOrThrow();
    let offset = 0;
    while (offset < data.length) {
      this.#run ??= runs.buffer(RUN_BYTES);
      const n = data.copy(this.#run, this.#runLength, offset, Math.min(offset + RUN_BYTES - this.#runLength, data.length));
      this.#runLength += n;
      offset += n;
      if (this.#runLength === RUN_BYTES) await this.#submit(false);
    }
  }

  async #submit(last: boolean): Promise<void> {
    const runs = this.#runsOrThrow();
    const run = this.#run ?? runs.buffer(RUN_BYTES);
    const only = last && this.#counter === 0;
    if (!only) await runs.room();
    runs.submit({ kind: "open", counter: this.#counter, sealed: run, length: this.#runLength, last }, run, only);
    this.#counter += RUN_CHUNKS;
    this.#run = undefined;
    this.#runLength = 0;
  }

  async #finish(): Promise<void> {
    const runs = this.#runs;
    if (runs === undefined) {
      throw decryptError("header", this.#headerEnd !== undefined ? "input ends inside the payload nonce" : "input ends inside the header");
    }
    await runs.drain();
    if (this.#finalSeen) {
      if (this.#runLength > 0) throw decryptError("payload", "data after the final chunk", { details: { chunk: this.#counter } });
      return;
    }
    // The rest, possibly nothing, ends the input: its last chunk must open as the final one.
    await this.#submit(true);
    await runs.drain();
  }
}

function faultError(fault: OpenFault, chunk: number): SnapvmError {
  const details = { details: { chunk } };
  switch (fault) {
    case "unauthenticated":
      return decryptError("payload", `chunk ${chunk} does not authenticate`, details);
    case "after-final":
      return decryptError("payload", "data after the final chunk", details);
    case "short":
      return decryptError("payload", `chunk ${chunk} is shorter than its tag`, details);
    case "empty-final":
      return decryptError("payload", "the final chunk is empty, which only an empty payload may have", details);
    case "final-unauthenticated":
      return decryptError("payload", `final chunk ${chunk} does not authenticate (or the file is truncated)`, details);
    case "truncated":
      return decryptError("payload", "input ends without a final chunk: the file is truncated", details);
  }
}

/** A Transform for stream.pipeline: age v1 (binary) → plaintext, with the first identity that matches. */
export function createDecryptStream(identities: readonly Identity[]): Transform {
  if (identities.length === 0) throw new RangeError("age: decryption needs at least one identity");
  return new DecryptStream(identities);
}
