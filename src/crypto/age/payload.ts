import { createCipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { TAG_SIZE } from "./constants.ts";
import { hkdf32, open } from "./primitives.ts";

/** 11-byte counter: chunk numbers past 2^48 would need > 16 EiB, so 6 counter bytes are ever used. */
const MAX_CHUNKS = 2 ** 48;

/**
 * The STREAM construction over ChaCha20-Poly1305: key HKDF(file key, nonce, "payload"), per-chunk nonce
 * = 11-byte big-endian counter || last-chunk flag. One instance per direction and file; chunks must be
 * processed in order. A KeyObject is built once so each chunk skips re-importing the key.
 */
export class PayloadCipher {
  readonly #key: KeyObject;
  readonly #nonce = Buffer.alloc(12);
  #counter = 0;

  constructor(fileKey: Uint8Array, payloadNonce: Uint8Array) {
    this.#key = createSecretKey(hkdf32(fileKey, payloadNonce, "payload"));
  }

  /** Chunks processed so far. */
  get chunks(): number {
    return this.#counter;
  }

  /** The nonce for the current chunk; the counter moves on only once a chunk is sealed or opened. */
  #nonceFor(last: boolean): Buffer {
    if (this.#counter >= MAX_CHUNKS) throw new RangeError("age: STREAM chunk counter exhausted");
    this.#nonce.writeUIntBE(this.#counter, 5, 6);
    this.#nonce[11] = last ? 1 : 0;
    return this.#nonce;
  }

  /** Returns [ciphertext, tag] as two buffers to spare a 64 KiB copy per chunk. */
  seal(plaintext: Uint8Array, last: boolean): [Buffer, Buffer] {
    const cipher = createCipheriv("chacha20-poly1305", this.#key, this.#nonceFor(last), { authTagLength: TAG_SIZE });
    const body = cipher.update(plaintext);
    cipher.final();
    this.#counter++;
    return [body, cipher.getAuthTag()];
  }

  /**
   * The plaintext of the current chunk if it authenticates with this last-chunk flag, else undefined
   * (and the counter stays, so the caller may retry with the other flag).
   */
  tryOpen(sealed: Buffer, last: boolean): Buffer | undefined {
    const plaintext = open(this.#key, this.#nonceFor(last), sealed);
    if (plaintext !== undefined) this.#counter++;
    return plaintext;
  }
}
