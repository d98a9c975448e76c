import { streamError } from "./errors.ts";
import type { ByteSource } from "./source.ts";

/**
 * A bounded cursor over a ByteSource. Every read checks the bytes exist first and throws a
 * StateInvalid error naming the offset and what was being read, so no malformed input can index
 * past the end, allocate from an attacker's length, or loop without moving forward.
 */
export class Cursor {
  #pos: number;

  constructor(
    readonly source: ByteSource,
    start = 0,
  ) {
    this.#pos = start;
  }

  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.source.size - this.#pos;
  }

  atEnd(): boolean {
    return this.#pos >= this.source.size;
  }

  /** Moves to an absolute offset inside the source (the end itself is allowed). */
  seek(offset: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.source.size) {
      throw streamError(this.#pos, `${what} points to offset ${offset}, outside the ${this.source.size}-byte stream`, { target: offset });
    }
    this.#pos = offset;
  }

  skip(length: number, what: string): void {
    this.need(length, what);
    this.#pos += length;
  }

  bytes(length: number, what: string): Buffer {
    this.need(length, what);
    const out = this.source.read(this.#pos, length);
    this.#pos += length;
    return out;
  }

  peekU8(): number | undefined {
    return this.atEnd() ? undefined : this.source.read(this.#pos, 1)[0];
  }

  u8(what: string): number {
    return this.bytes(1, what).readUInt8(0);
  }

  be16(what: string): number {
    return this.bytes(2, what).readUInt16BE(0);
  }

  be32(what: string): number {
    return this.bytes(4, what).readUInt32BE(0);
  }

  be64(what: string): bigint {
    return this.bytes(8, what).readBigUInt64BE(0);
  }

  /** A be64 that must fit a JS number (lengths, offsets): larger values are malformed for our purposes. */
  be64Number(what: string): number {
    const start = this.#pos;
    const value = this.be64(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw streamError(start, `${what} is 0x${value.toString(16)}, too large`);
    return Number(value);
  }

  /** QEMU's idstr encoding: one length byte, then that many bytes (no terminator). */
  str8(what: string): string {
    const length = this.u8(`${what} length`);
    return this.bytes(length, what).toString("latin1");
  }

  need(length: number, what: string): void {
    if (length > this.remaining) {
      throw streamError(this.#pos, `truncated: ${what} needs ${length} bytes, ${Math.max(0, this.remaining)} left`, {
        needed: length,
        available: Math.max(0, this.remaining),
      });
    }
  }
}
