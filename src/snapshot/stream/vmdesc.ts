import { limitError, streamError } from "./errors.ts";
import { SectionType } from "./format.ts";
import type { StreamLimits } from "./limits.ts";
import type { ByteSource } from "./source.ts";
import { VmdescShape, type VmDesc } from "./vmdesc-shape.ts";

const BRACE = 0x7b; // '{'
const CLOSING_BRACE = 0x7d; // '}'

/**
 * Finds the vmdesc record QEMU appends after the EOF marker: 0x00 (EOF), 0x06, be32 length, JSON.
 * It sits at the end of the file, but device sections before it cannot be skipped without it, so it
 * is looked for from the tail first and confirmed later by the sequential walk (decode.ts).
 *
 * JSON never contains a raw NUL, so the last NUL of the tail is either the EOF marker or a byte of
 * the be32 length (the idea of QEMU's scripts/analyze-migration.py); the record is then pinned down
 * exactly. Returns the offset of the 0x06 byte, or undefined if there is none.
 */
export function locateVmdesc(source: ByteSource, limits: StreamLimits): number | undefined {
  const cap = Math.min(source.size, limits.maxVmdescBytes + 6);
  // Grow the window from the tail: the last NUL is normally within the vmdesc's length of the end,
  // and a mapped-ram file must not be read further back than needed.
  for (let windowBytes = Math.min(cap, 64 * 1024); ; windowBytes = Math.min(cap, windowBytes * 4)) {
    const start = source.size - windowBytes;
    const tail = source.read(start, windowBytes);
    const lastNul = tail.lastIndexOf(0);
    if (lastNul >= 6 || windowBytes === cap) return lastNul < 0 ? undefined : candidate(tail, start, lastNul);
  }
}

/** The EOF byte is at q-1 and lastNul is it or a length byte, so the 0x06 byte q is within lastNul-4..lastNul+1. */
function candidate(tail: Buffer, start: number, lastNul: number): number | undefined {
  for (let q = Math.max(1, lastNul - 4); q <= lastNul + 1 && q + 5 < tail.length; q++) {
    if (tail[q - 1] !== SectionType.Eof || tail[q] !== SectionType.VmDescription || tail[q + 5] !== BRACE) continue;
    const end = q + 5 + tail.readUInt32BE(q + 1);
    if (end <= tail.length && tail[end - 1] === CLOSING_BRACE) return start + q;
  }
  return undefined;
}

/** Reads and checks the vmdesc record whose 0x06 byte is at `offset`. */
export function readVmdesc(source: ByteSource, offset: number, limits: StreamLimits): VmDesc {
  const head = source.read(offset, 5);
  if (head.length < 5) throw streamError(offset, "truncated: vmdesc record header needs 5 bytes");
  if (head[0] !== SectionType.VmDescription) throw streamError(offset, `expected the vmdesc record (0x06), found 0x${(head[0] ?? 0).toString(16)}`);
  const length = head.readUInt32BE(1);
  const jsonOffset = offset + 5;
  if (length > limits.maxVmdescBytes) throw limitError(offset + 1, `vmdesc JSON is ${length} bytes`, limits.maxVmdescBytes);
  if (jsonOffset + length > source.size) {
    throw streamError(offset + 1, `bad length: vmdesc JSON claims ${length} bytes, ${source.size - jsonOffset} left`, { length });
  }
  const text = source.read(jsonOffset, length).toString("utf8");
  checkJsonDepth(text, jsonOffset, limits.maxJsonDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw streamError(jsonOffset, `vmdesc JSON is not parseable: ${error instanceof Error ? error.message : String(error)}`);
  }
  const shape = new VmdescShape(jsonOffset, limits).document(parsed);
  return { offset, sizeBytes: length, ...shape };
}

/** Rejects documents nested deeper than `max` before JSON.parse and the shape walk recurse into them. */
function checkJsonDepth(text: string, offset: number, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) throw limitError(offset + i, "vmdesc JSON nesting depth", max);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
