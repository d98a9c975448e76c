import { Transform, type TransformCallback } from "node:stream";
import { CHUNK_SIZE, PAYLOAD_NONCE_SIZE } from "./constants.ts";
import { randomBytes } from "node:crypto";
import { wrapFileKey } from "./file-key.ts";
import { encodeHeader } from "./header-encode.ts";
import type { Recipient } from "./keys.ts";
import { PayloadCipher } from "./payload.ts";

/**
 * Plaintext in, age v1 file out. Memory is bounded: at most one 64 KiB plaintext chunk is held, because a
 * chunk is known to be non-final only once a byte after it arrives (the final chunk may be full).
 * Key wrapping (scrypt takes ~1 s at work factor 18) runs in construct() off the event loop.
 */
class EncryptStream extends Transform {
  readonly #recipients: readonly Recipient[];
  #cipher: PayloadCipher | undefined;
  #prefix: Buffer | undefined;
  readonly #pending = Buffer.allocUnsafe(CHUNK_SIZE);
  #pendingLength = 0;

  constructor(recipients: readonly Recipient[]) {
    super();
    this.#recipients = [...recipients];
  }

  override _construct(callback: (error?: Error | null) => void): void {
    wrapFileKey(this.#recipients).then(
      ({ fileKey, stanzas }) => {
        const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
        this.#prefix = Buffer.concat([encodeHeader(stanzas, fileKey), nonce]);
        this.#cipher = new PayloadCipher(fileKey, nonce);
        callback();
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  #pushSealed(plaintext: Buffer, last: boolean): void {
    if (this.#cipher === undefined) throw new Error("age: encrypt stream used before construct()");
    if (this.#prefix !== undefined) {
      this.push(this.#prefix);
      this.#prefix = undefined;
    }
    const [body, tag] = this.#cipher.seal(plaintext, last);
    this.push(body);
    this.push(tag);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.#pendingLength === CHUNK_SIZE) {
        this.#pushSealed(this.#pending, false);
        this.#pendingLength = 0;
      }
      // Fast path, no copy: a whole chunk with at least one byte after it is sealed straight from the input.
      if (this.#pendingLength === 0 && data.length - offset > CHUNK_SIZE) {
        this.#pushSealed(data.subarray(offset, offset + CHUNK_SIZE), false);
        offset += CHUNK_SIZE;
        continue;
      }
      const n = Math.min(CHUNK_SIZE - this.#pendingLength, data.length - offset);
      data.copy(this.#pending, this.#pendingLength, offset, offset + n);
      this.#pendingLength += n;
      offset += n;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    // Empty input still gets one (empty) final chunk; a non-empty final chunk is never empty.
    this.#pushSealed(this.#pending.subarray(0, this.#pendingLength), true);
    callback();
  }
}

/** A Transform for stream.pipeline: plaintext → age v1 (binary, not armored). */
export function createEncryptStream(recipients: readonly Recipient[]): Transform {
  return new EncryptStream(recipients);
}
