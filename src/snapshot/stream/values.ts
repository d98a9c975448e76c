import type { BufferValue, JsonValue } from "./report.ts";

/** Buffers show at most this many bytes as hex; the full length is always given. */
export const HEX_PREVIEW_BYTES = 64;

export function renderBuffer(bytes: Buffer): BufferValue {
  if (bytes.every((b) => b === 0)) return { bytes: bytes.length, zero: true };
  const shown = bytes.subarray(0, HEX_PREVIEW_BYTES).toString("hex");
  return bytes.length > HEX_PREVIEW_BYTES ? { bytes: bytes.length, hex: shown, truncated: true } : { bytes: bytes.length, hex: shown };
}

/** Hex for values that do not fit a double exactly; signed ones keep their sign ("-0x10"). */
export function hex64(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** "equal" and "le" (less-or-equal) only change what the loader checks; the bytes stay big-endian. */
const INTEGER_TYPE = /^(u?)int(8|16|32|64)( equal| le)?$/;

/**
 * Decodes one scalar element of `size` bytes by its VMState type name, or returns undefined when the
 * type is not a scalar this decoder knows (the caller renders the bytes). Integers up to 32 bits are
 * numbers; 64-bit ones are hex strings so no precision is lost.
 */
export function decodeScalar(type: string, bytes: Buffer): JsonValue | undefined {
  const size = bytes.length;
  if (type === "bool" && size === 1) return bytes[0] !== 0;
  if (type === "float64" && size === 8) {
    const value = bytes.readDoubleBE(0);
    return Number.isFinite(value) ? value : String(value);
  }
  if (type === "timer" && size === 8) return hex64(bytes.readBigInt64BE(0));
  if (type === "nullptr" && size === 1 && bytes[0] === 0x30) return "nullptr";
  const match = INTEGER_TYPE.exec(type);
  if (match === null || Number(match[2]) / 8 !== size) return undefined;
  const signed = match[1] === "";
  switch (size) {
    case 1:
      return signed ? bytes.readInt8(0) : bytes.readUInt8(0);
    case 2:
      return signed ? bytes.readInt16BE(0) : bytes.readUInt16BE(0);
    case 4:
      return signed ? bytes.readInt32BE(0) : bytes.readUInt32BE(0);
    default:
      return hex64(signed ? bytes.readBigInt64BE(0) : bytes.readBigUInt64BE(0));
  }
}
