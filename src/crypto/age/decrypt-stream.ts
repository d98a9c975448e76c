import { Transform, type TransformCallback } from "node:stream";
import { ENCRYPTED_CHUNK_SIZE, MAX_HEADER_SIZE, PAYLOAD_NONCE_SIZE, TAG_SIZE } from "./constants.ts";
import { decryptError } from "./errors.ts";
import { unwrapFileKey } from "./file-key.ts";
import { headerMacMatches } from "./header-mac.ts";
import { canStartHeader, HeaderEndFinder, parseHeader } from "./header-parse.ts";
import type { Identity } from "./keys.ts";
import { PayloadCipher } from "./payload.ts";

/**
 * age v1 file in, plaintext out. Guarantees:
 * - a chunk's plaintext is pushed only after its tag authenticates;
 * - the end of input without an authenticated final chunk is an error (truncation), and so is any byte
 *   after the final chunk or an empty final chunk after other chunks;
 * - memory is bounded: the header is capped at MAX_HEADER_SIZE, the payload holds at most one encrypted
 *   chunk.
 * Errors are SnapvmErrors: E_DECRYPT_FAILED (details.stage header | mac | payload) or E_WRONG_KEY.
 */
class DecryptStream extends Transform {
  readonly #identities: readonly Identity[];
  /** Header bytes (and whatever followed them) until the header and the payload nonce are complete. */
  #head: Buffer = Buffer.allocUnsafe(MAX_HEADER_SIZE + PAYLOAD_NONCE_SIZE);
  #headLength = 0;
  readonly #headerEndFinder = new HeaderEndFinder();
  #headerEnd: number | undefined;
  #cipher: PayloadCipher | undefined;
  readonly #chunk = Buffer.allocUnsafe(ENCRYPTED_CHUNK_SIZE);
  #chunkLength = 0;
  #finalSeen = false;

  constructor(identities: readonly Identity[]) {
    super();
    this.#identities = [...identities];
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#cipher !== undefined) {
      this.#settle(() => {
        this.#payload(data);
      }, callback);
      return;
    }
    this.#header(data).then(() => {
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#settle(() => {
      this.#finish();
    }, callback);
  }

  #settle(work: () => void, callback: TransformCallback): void {
    try {
      work();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    callback();
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
    this.#cipher = new PayloadCipher(fileKey, head.subarray(end, end + PAYLOAD_NONCE_SIZE));
    this.#payload(head.subarray(end + PAYLOAD_NONCE_SIZE));
    this.#payload(data.subarray(taken));
    this.#head = Buffer.alloc(0);
  }

  /**
   * A full chunk is opened as soon as it is complete: first as a non-final chunk, and if that fails as
   * the final one (the final chunk may be full). Any byte after an authenticated final chunk is an error.
   */
  #payload(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.#finalSeen) throw decryptError("payload", "data after the final chunk", { details: { chunk: this.#cipherOrThrow().chunks } });
      // Fast path, no copy: a whole chunk in the input is opened straight from it.
      if (this.#chunkLength === 0 && data.length - offset >= ENCRYPTED_CHUNK_SIZE) {
        this.#openFull(data.subarray(offset, offset + ENCRYPTED_CHUNK_SIZE));
        offset += ENCRYPTED_CHUNK_SIZE;
        continue;
      }
      const n = Math.min(ENCRYPTED_CHUNK_SIZE - this.#chunkLength, data.length - offset);
      data.copy(this.#chunk, this.#chunkLength, offset, offset + n);
      this.#chunkLength += n;
      offset += n;
      if (this.#chunkLength === ENCRYPTED_CHUNK_SIZE) {
        this.#openFull(this.#chunk);
        this.#chunkLength = 0;
      }
    }
  }

  #cipherOrThrow(): PayloadCipher {
    if (this.#cipher === undefined) throw new Error("age: payload before header");
    return this.#cipher;
  }

  #openFull(sealed: Buffer): void {
    const cipher = this.#cipherOrThrow();
    const index = cipher.chunks;
    let plaintext = cipher.tryOpen(sealed, false);
    if (plaintext === undefined) {
      plaintext = cipher.tryOpen(sealed, true);
      if (plaintext === undefined) throw decryptError("payload", `chunk ${index} does not authenticate`, { details: { chunk: index } });
      this.#finalSeen = true;
    }
    this.push(plaintext);
  }

  #finish(): void {
    const cipher = this.#cipher;
    if (cipher === undefined) {
      throw decryptError("header", this.#headerEnd !== undefined ? "input ends inside the payload nonce" : "input ends inside the header");
    }
    if (this.#finalSeen) return;
    const index = cipher.chunks;
    if (this.#chunkLength === 0) {
      throw decryptError("payload", "input ends without a final chunk: the file is truncated", { details: { chunk: index } });
    }
    if (this.#chunkLength < TAG_SIZE) throw decryptError("payload", `chunk ${index} is shorter than its tag`, { details: { chunk: index } });
    if (this.#chunkLength === TAG_SIZE && index > 0) {
      throw decryptError("payload", "the final chunk is empty, which only an empty payload may have", { details: { chunk: index } });
    }
    const plaintext = cipher.tryOpen(this.#chunk.subarray(0, this.#chunkLength), true);
    if (plaintext === undefined) {
      throw decryptError("payload", `final chunk ${index} does not authenticate (or the file is truncated)`, { details: { chunk: index } });
    }
    this.push(plaintext);
  }
}

/** A Transform for stream.pipeline: age v1 (binary) → plaintext, with the first identity that matches. */
export function createDecryptStream(identities: readonly Identity[]): Transform {
  if (identities.length === 0) throw new RangeError("age: decryption needs at least one identity");
  return new DecryptStream(identities);
}
