import { streamError } from "./errors.ts";
import { SectionType } from "./format.ts";
import { readFileHeader } from "./header.ts";
import type { StreamLimits } from "./limits.ts";
import { Cursor } from "./reader.ts";
import type { StreamReport, VmdescReport } from "./report.ts";
import { SectionWalker } from "./sections.ts";
import type { ByteSource } from "./source.ts";
import { locateVmdesc, readVmdesc } from "./vmdesc.ts";
import type { VmDesc } from "./vmdesc-shape.ts";

/**
 * Decodes a whole stream from a source: header, then the vmdesc from the tail (device sections
 * cannot be skipped without it), then the records in order. The walk must arrive at the EOF byte
 * right before the vmdesc that was found, which catches a vmdesc guessed from corrupt bytes.
 */
export function decodeStream(source: ByteSource, limits: StreamLimits): StreamReport {
  readFileHeader(new Cursor(source)); // not a stream at all: say so before looking for a vmdesc
  const located = locateVmdesc(source, limits);
  return decodeWith(source, limits, located === undefined ? undefined : readVmdesc(source, located, limits), true);
}

function decodeWith(source: ByteSource, limits: StreamLimits, vmdesc: VmDesc | undefined, mayRetry: boolean): StreamReport {
  const cursor = new Cursor(source);
  const header = readFileHeader(cursor);
  const walk = new SectionWalker(cursor, vmdesc, limits).walk();
  const notes = [...walk.notes];
  let trailingBytes = 0;
  if (walk.eofOffset !== null) {
    const after = walk.eofOffset + 1;
    if (vmdesc !== undefined && vmdesc.offset !== after) {
      throw streamError(after, `the stream ends at its EOF marker at ${walk.eofOffset}, but the vmdesc record was found at ${vmdesc.offset}`);
    }
    if (vmdesc === undefined && mayRetry && source.read(after, 1)[0] === SectionType.VmDescription) {
      // Present but missed from the tail (trailing bytes after it): decode again with it.
      return decodeWith(source, limits, readVmdesc(source, after, limits), false);
    }
    trailingBytes = source.size - (vmdesc === undefined ? after : vmdesc.offset + 5 + vmdesc.sizeBytes);
  } else if (vmdesc !== undefined) {
    trailingBytes = source.size - (vmdesc.offset + 5 + vmdesc.sizeBytes);
  }
  if (vmdesc === undefined) {
    notes.push("the stream has no vmdesc (QEMU's suppress-vmdesc, or a truncated file): device fields are not decoded, only delimited by their footers");
  }
  if (trailingBytes > 0) notes.push(`${trailingBytes} bytes follow the end of the stream`);
  return {
    magic: header.magic,
    version: header.version,
    fileBytes: source.size,
    configuration: walk.configuration,
    sections: walk.sections,
    ...(walk.commands.length > 0 ? { commands: walk.commands } : {}),
    ...(walk.ram === undefined ? {} : { ram: walk.ram.report }),
    vmdesc: vmdescReport(vmdesc),
    eofOffset: walk.eofOffset,
    trailingBytes,
    notes,
  };
}

function vmdescReport(vmdesc: VmDesc | undefined): VmdescReport {
  if (vmdesc === undefined) return { present: false, sizeBytes: 0, devices: 0 };
  return {
    present: true,
    offset: vmdesc.offset,
    sizeBytes: vmdesc.sizeBytes,
    devices: vmdesc.devices.length,
    ...(vmdesc.pageSize === undefined ? {} : { pageSize: vmdesc.pageSize }),
  };
}
