import { Transform, type TransformCallback } from "node:stream";
import { CHUNK_SIZE, PAYLOAD_NONCE_SIZE } from "./constants.ts";
import { randomBytes } from "node:crypto";
import { wrapFileKey } from "./file-key.ts";
import { encodeHeader } from "./header-encode.ts";
import type { Recipient } from "./keys.ts";
import { ChunkRuns, RUN_CHUNKS } from "./chunk-runs.ts";
import type { ChunkResult } from "./chunk-worker.ts";
import { hkdf32 } from "./primitives.ts";

const RUN_BYTES = RUN_CHUNKS * CHUNK_SIZE;

/**
 * What makes an age file's bytes: the file key and the header and payload nonce written with it. Given
 * the same key material and plaintext, the encryptor writes the same file byte for byte — what lets an
 * interrupted upload be resumed. It is a secret (it decrypts the file): kept 0600, removed after use.
 */
export interface AgeKeyMaterial {
  fileKey: Buffer;
  /** The header (stanzas and MAC) followed by the 16-byte payload nonce. */
  prefix: Buffer;
}

export interface EncryptOptions {
  /** Encrypt with this key material instead of a fresh file key (the recipients are then not used). */
  reuse?: AgeKeyMaterial;
  /** Told the key material once it is chosen. */
  onKeyMaterial?: (material: AgeKeyMaterial) => void;
}

/**
 * Plaintext in, age v1 file out. The payload is cut into runs of RUN_CHUNKS chunks, sealed on worker threads
 * (ChunkRuns) and pushed in order: the main thread only copies input into runs, so encryption runs beside the
 * bundle's reads and zstd instead of after them. Memory is bounded: the run being filled plus ChunkRuns'
 * runs in flight. Key wrapping (scrypt takes ~1 s at work factor 18) runs in construct() off the event loop.
 */
class EncryptStream extends Transform {
  readonly #recipients: readonly Recipient[];
  readonly #options: EncryptOptions;
  #runs: ChunkRuns | undefined;
  #prefix: Buffer | undefined;
  #run: Buffer<ArrayBuffer> | undefined;
  #runLength = 0;
  /** The counter of the run being filled. */
  #counter = 0;

  constructor(recipients: readonly Recipient[], options: EncryptOptions) {
    super();
    this.#recipients = [...recipients];
    this.#options = options;
  }

  async #keyMaterial(): Promise<AgeKeyMaterial> {
    if (this.#options.reuse !== undefined) return this.#options.reuse;
    const { fileKey, stanzas } = await wrapFileKey(this.#recipients);
    return { fileKey, prefix: Buffer.concat([encodeHeader(stanzas, fileKey), randomBytes(PAYLOAD_NONCE_SIZE)]) };
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#keyMaterial().then(
      (material) => {
        this.#options.onKeyMaterial?.(material);
        this.#prefix = material.prefix;
        const payloadKey = hkdf32(material.fileKey, material.prefix.subarray(material.prefix.length - PAYLOAD_NONCE_SIZE), "payload");
        this.#runs = new ChunkRuns(
          payloadKey,
          (result) => {
            this.#sealed(result);
          },
          () => this.readableLength < this.readableHighWaterMark,
          (error) => this.destroy(error),
        );
        callback();
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  #runsOrThrow(): ChunkRuns {
    if (this.#runs === undefined) throw new Error("age: encrypt stream used before construct()");
    return this.#runs;
  }

  #sealed(result: ChunkResult): void {
    if (result.kind !== "seal") throw new Error("age: a chunk worker answered a seal with an open result");
    if (this.#prefix !== undefined) {
      this.push(this.#prefix);
      this.#prefix = undefined;
    }
    this.push(Buffer.from(result.sealed.buffer, result.sealed.byteOffset, result.sealed.byteLength));
    this.#runsOrThrow().recycle(result.plain);
  }

  /** Sends the run being filled; `last` marks its final chunk as the payload's last. */
  async #submit(last: boolean): Promise<void> {
    const runs = this.#runsOrThrow();
    const run = this.#run ?? runs.buffer(RUN_BYTES);
    const only = last && this.#counter === 0;
    if (!only) await runs.room();
    runs.submit({ kind: "seal", counter: this.#counter, plain: run, length: this.#runLength, last }, run, only);
    this.#counter += RUN_CHUNKS;
    this.#run = undefined;
    this.#runLength = 0;
  }

  /**
   * A full run goes only once a byte after it has arrived: the final chunk (which may be full) is known to
   * be final only at the end of input.
   */
  async #accept(data: Buffer): Promise<void> {
    const runs = this.#runsOrThrow();
    let offset = 0;
    while (offset < data.length) {
      if (this.#runLength === RUN_BYTES) await this.#submit(false);
      this.#run ??= runs.buffer(RUN_BYTES);
      const n = data.copy(this.#run, this.#runLength, offset, Math.min(offset + RUN_BYTES - this.#runLength, data.length));
      this.#runLength += n;
      offset += n;
    }
  }

  override _read(size: number): void {
    this.#runs?.pump();
    super._read(size);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#accept(data).then(() => {
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    // Empty input still gets one (empty) final chunk; a non-empty final chunk is never empty.
    this.#submit(true)
      .then(() => this.#runsOrThrow().drain())
      .then(() => {
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
}

/** A Transform for stream.pipeline: plaintext → age v1 (binary, not armored). */
export function createEncryptStream(recipients: readonly Recipient[], options: EncryptOptions = {}): Transform {
  return new EncryptStream(recipients, options);
}
