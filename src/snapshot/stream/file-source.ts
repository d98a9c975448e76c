import { readSync } from "node:fs";
import { limitError } from "./errors.ts";
import type { ByteSource } from "./source.ts";

/**
 * Reads from disk in windows this large: small enough that each mapped-ram block header costs little
 * (every header follows a seek over the block's pages), large enough that a device section is a few reads.
 */
const WINDOW_BYTES = 64 * 1024;

/**
 * A ByteSource over an open file descriptor with positional, synchronous reads through a one-window
 * cache. It counts the bytes it actually reads and refuses to read more than `budget`, which is what
 * lets a multi-GiB mapped-ram file be inspected: the decoder seeks over the guest pages and only the
 * stream's records, bitmaps and vmdesc are read.
 */
export class FileSource implements ByteSource {
  #window = Buffer.alloc(0);
  #windowStart = 0;
  #bytesRead = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly budget: number,
  ) {}

  get bytesRead(): number {
    return this.#bytesRead;
  }

  read(offset: number, length: number): Buffer {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    const windowEnd = this.#windowStart + this.#window.length;
    if (offset >= this.#windowStart && end <= windowEnd) return this.#window.subarray(offset - this.#windowStart, end - this.#windowStart);
    const loadEnd = Math.min(this.size, Math.max(end, offset + WINDOW_BYTES));
    this.#load(offset, loadEnd - offset);
    return this.#window.subarray(0, end - offset);
  }

  indexOf(pattern: Buffer, from: number, to: number): number {
    // Windows overlap by pattern.length - 1 so a match straddling two windows is still seen.
    for (let start = from; start < to; start += WINDOW_BYTES) {
      const chunk = this.read(start, Math.min(WINDOW_BYTES, to - start) + pattern.length - 1);
      const found = chunk.indexOf(pattern);
      if (found >= 0 && start + found < to) return start + found;
    }
    return -1;
  }

  #load(offset: number, length: number): void {
    if (this.#bytesRead + length > this.budget) throw limitError(offset, `reading more than ${this.budget} bytes of the file`, this.budget);
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const n = readSync(this.fd, buffer, filled, length - filled, offset + filled);
      if (n === 0) break; // the file shrank under us: callers see a short read and report truncation
      filled += n;
    }
    this.#bytesRead += filled;
    this.#window = buffer.subarray(0, filled);
    this.#windowStart = offset;
  }
}
