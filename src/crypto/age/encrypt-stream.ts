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

class EncryptStream extends Transform {
  readonly #recipients: readonly Recipient[];
  readonly #options: EncryptOptions;
  #cipher: PayloadCipher | undefined;
  #prefix: Buffer | undefined;
  readonly #pending = Buffer.allocUnsafe(CHUNK_SIZE);
  #pendingLength = 0;

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
        this.#cipher = new PayloadCipher(material.fileKey, material.prefix.subarray(material.prefix.length - PAYLOAD_NONCE_SIZE));
        callback();
      },
      (error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** Sealed pieces of the current input chunk, pushed as one buffer: a sink gets one write per input chunk, not two per 64 KiB. */
  #out: Buffer[] = [];

  #pushSealed(plaintext: Buffer, last: boolean): void {
    if (this.#cipher === undefined) throw new Error("age: encrypt stream used before construct()");
    if (this.#prefix !== undefined) {
      this.#out.push(this.#prefix);
      this.#prefix = undefined;
    }
    const [body, tag] = this.#cipher.seal(plaintext, last);
    this.#out.push(body, tag);
  }

  #flushOut(): void {
    if (this.#out.length > 0) this.push(this.#out.length === 1 ? this.#out[0] : Buffer.concat(this.#out));
    this.#out = [];
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
    this.#flushOut();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    // Empty input still gets one (empty) final chunk; a non-empty final chunk is never empty.
    this.#pushSealed(this.#pending.subarray(0, this.#pendingLength), true);
    this.#flushOut();
    callback();
  }
}

/** A Transform for stream.pipeline: plaintext → age v1 (binary, not armored). */
export function createEncryptStream(recipients: readonly Recipient[], options: EncryptOptions = {}): Transform {
  return new EncryptStream(recipients, options);
}
