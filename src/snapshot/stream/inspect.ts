import { open } from "node:fs/promises";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { readConfiguration } from "./configuration.ts";
import { decodeStream } from "./decode.ts";
import { limitError } from "./errors.ts";
import { FileSource } from "./file-source.ts";
import { CAP_MAPPED_RAM, SectionType } from "./format.ts";
import { readFileHeader } from "./header.ts";
import { DEFAULT_LIMITS, type StreamLimits } from "./limits.ts";
import { Cursor } from "./reader.ts";
import type { StreamReport } from "./report.ts";
import { bufferSource, type ByteSource } from "./source.ts";

export interface InspectOptions {
  /** Most bytes to look at (default 256 MiB): the buffer's length, or for a file the bytes read. */
  maxBytes?: number;
  /** Tighter or looser bounds for tests and tools; maxBytes above wins over limits.maxBytes. */
  limits?: Partial<StreamLimits>;
}

function resolve(options: InspectOptions): StreamLimits {
  return { ...DEFAULT_LIMITS, ...options.limits, ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }) };
}

/**
 * Decodes a QEMU migration stream held in memory into a report. Pure: no I/O, no QEMU. Throws only
 * SnapvmError(StateInvalid) for bad input, with the byte offset in the message and details.
 */
export function inspectStream(buffer: Buffer, options: InspectOptions = {}): StreamReport {
  const limits = resolve(options);
  if (buffer.length > limits.maxBytes) throw limitError(0, `stream is ${buffer.length} bytes`, limits.maxBytes);
  return decodeStream(bufferSource(buffer), limits);
}

/**
 * Decodes a device-state file without reading it whole. The size cap is checked before decoding:
 * a file larger than maxBytes is refused unless its configuration says mapped-ram, whose guest
 * pages sit at fixed offsets the decoder seeks over; even then no more than maxBytes are read.
 */
export async function inspectStreamFile(path: string, options: InspectOptions = {}): Promise<StreamReport> {
  const limits = resolve(options);
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const source = new FileSource(handle.fd, size, limits.maxBytes);
    if (size > limits.maxBytes && !isMappedRam(source)) {
      throw new SnapvmError(
        ErrorCode.StateInvalid,
        `${path} is ${size} bytes, more than the ${limits.maxBytes}-byte cap for a stream that must be read whole; only mapped-ram streams, whose RAM is skipped by seeking, may be larger`,
        { hint: "Pass a larger maxBytes if this really is a device-state file.", details: { path, size, limit: limits.maxBytes } },
      );
    }
    return decodeStream(source, limits);
  } catch (error) {
    if (isSnapvmError(error, ErrorCode.StateInvalid) && error.details["path"] === undefined) {
      throw new SnapvmError(ErrorCode.StateInvalid, `${path}: ${error.message}`, {
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        cause: error,
        details: { ...error.details, path },
      });
    }
    throw error;
  } finally {
    await handle.close();
  }
}

/** Reads only the header and configuration record to learn whether RAM is mapped (and skippable). */
function isMappedRam(source: ByteSource): boolean {
  const cursor = new Cursor(source);
  readFileHeader(cursor);
  const start = cursor.offset;
  if (cursor.u8("section type") !== SectionType.Configuration) return false;
  const configuration = readConfiguration(cursor, start, undefined, { values: 0, maxValues: 0, maxDepth: 0 });
  return configuration.capabilities.includes(CAP_MAPPED_RAM);
}
