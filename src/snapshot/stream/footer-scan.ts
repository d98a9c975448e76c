import { SectionType } from "./format.ts";
import type { ByteSource } from "./source.ts";

/** How many false footer candidates one search tolerates before giving up. */
const MAX_CANDIDATES = 10_000;

/**
 * Finds the end of a section whose layout is unknown (no vmdesc entry, or an iterable section other
 * than "ram") by its footer: 0x7e, be32 section id, followed by bytes that start a plausible next
 * record. The device data could contain the same five bytes, so each candidate is checked against
 * what must follow; the result is a best effort and is reported as "delimited", never as decoded.
 * Returns the offset just past the footer, or undefined.
 */
export function findFooterEnd(source: ByteSource, from: number, sectionId: number, startedIds: { has(id: number): boolean }): number | undefined {
  const pattern = Buffer.alloc(5);
  pattern[0] = SectionType.Footer;
  pattern.writeUInt32BE(sectionId, 1);
  let at = from;
  for (let tries = 0; tries < MAX_CANDIDATES; tries++) {
    const found = source.indexOf(pattern, at, source.size);
    if (found < 0) return undefined;
    if (startsRecord(source, found + 5, startedIds)) return found + 5;
    at = found + 1;
  }
  return undefined;
}

/**
 * Whether a record plausibly starts at `offset`. Bytes cut off by the end of the source count as
 * plausible: the footer was found, and the walk then reports the truncation at its exact offset.
 */
function startsRecord(source: ByteSource, offset: number, startedIds: { has(id: number): boolean }): boolean {
  const head = source.read(offset, 1 + 4 + 1 + 255 + 8);
  if (head.length === 0) return true;
  switch (head[0]) {
    case SectionType.Eof:
      return head.length === 1 || head[1] === SectionType.VmDescription;
    case SectionType.Part:
    case SectionType.End:
      return head.length < 5 || startedIds.has(head.readUInt32BE(1));
    case SectionType.Start:
    case SectionType.Full: {
      if (head.length < 6) return true;
      const nameLength = head[5] ?? 0;
      const name = head.subarray(6, 6 + nameLength);
      if (nameLength === 0 || !name.every((c) => c >= 0x20 && c < 0x7f)) return false;
      return head.length < 6 + nameLength + 8 || head.readUInt32BE(6 + nameLength + 4) < 0x10000;
    }
    case SectionType.Command:
      return true;
    default:
      return false;
  }
}
