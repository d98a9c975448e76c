/**
 * Random access to the bytes of a stream. The decoder never needs the whole file: a mapped-ram file
 * keeps guest pages at fixed offsets the decoder seeks over, so a source reads only what is asked.
 * Reads are synchronous so the decoder stays a plain function; a file source does positional reads.
 */
export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset+length), clipped at the end of the source; callers check the length. */
  read(offset: number, length: number): Buffer;
  /** First index ≥ from and < to where `pattern` starts, or -1. */
  indexOf(pattern: Buffer, from: number, to: number): number;
}

export function bufferSource(buffer: Buffer): ByteSource {
  return {
    size: buffer.length,
    read: (offset, length) => buffer.subarray(offset, Math.min(buffer.length, offset + length)),
    indexOf: (pattern, from, to) => {
      const found = buffer.subarray(0, Math.min(to + pattern.length - 1, buffer.length)).indexOf(pattern, from);
      return found >= 0 && found < to ? found : -1;
    },
  };
}
