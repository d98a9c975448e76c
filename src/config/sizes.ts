import { ErrorCode, SnapvmError } from "../errors/index.ts";

/**
 * Size strings: a whole number of bytes with an optional binary unit, e.g. "512M", "2GiB", "64 mib",
 * "1073741824". K, M, G, T and KiB, MiB, GiB, TiB (any case) all mean powers of 1024, as in QEMU.
 * "MB"/"KB" are refused: half the world reads them as powers of 1000.
 *
 * Written with explicit character classes (no `i` flag) because the same source goes into the JSON
 * Schema's `pattern`, which has no flags.
 */
export const SIZE_PATTERN = /^([0-9]+) ?([kKmMgGtT](?:[iI][bB])?|[bB])?$/;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

const UNIT_BYTES: Readonly<Record<string, number>> = { B: 1, K: KiB, M: MiB, G: GiB, T: TiB };
/** Largest first, so formatSize picks the biggest unit that divides exactly. */
const FORMAT_UNITS = [
  ["T", TiB],
  ["G", GiB],
  ["M", MiB],
  ["K", KiB],
] as const;

export type SizeParse = { ok: true; bytes: number } | { ok: false; reason: string };

const BINARY_NOTE: Readonly<Record<string, string>> = { K: "1K = 1024 bytes", M: "1M = 1024K", G: "1G = 1024M", T: "1T = 1024G" };

const EXAMPLE = `a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`;

/** Parses a size string without throwing; `reason` is a sentence fragment naming the input. */
export function checkSize(text: string): SizeParse {
  const match = SIZE_PATTERN.exec(text);
  if (match === null) return { ok: false, reason: whyNotASize(text) };
  const [, digits = "", unit = "B"] = match;
  const bytes = Number(digits) * (UNIT_BYTES[unit.charAt(0).toUpperCase()] ?? 1);
  if (!Number.isSafeInteger(bytes)) return { ok: false, reason: `${JSON.stringify(text)} is too large` };
  return { ok: true, bytes };
}

function whyNotASize(text: string): string {
  const shown = JSON.stringify(text);
  if (text.trim() === "") return "a size must not be empty";
  const powerOf1000 = /^([0-9]+) ?([kKmMgGtT])[bB]$/.exec(text);
  if (powerOf1000 !== null) {
    const [, number = "", letter = ""] = powerOf1000;
    const unit = letter.toUpperCase();
    return `${shown} is ambiguous; write "${number}${unit}" or "${number}${unit}iB" (sizes are binary: ${BINARY_NOTE[unit] ?? ""})`;
  }
  if (/^[0-9]*\.[0-9]+ ?[a-zA-Z]*$/.test(text)) return `${shown} is not a whole number; use a smaller unit, e.g. "1536M" instead of "1.5G"`;
  return `${shown} is not a size; expected ${EXAMPLE}`;
}

/** For command-line flags (`--memory 512M`): the size in bytes, or SnapvmError(InvalidArgument). */
export function parseSize(text: string): number {
  const result = checkSize(text);
  if (!result.ok) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `invalid size: ${result.reason}`, {
      hint: `Give a size as ${EXAMPLE}.`,
      details: { value: text },
    });
  }
  return result.bytes;
}

/**
 * The shortest exact spelling: the biggest unit that divides `bytes` ("512M", "1G", "1536M"),
 * or plain bytes ("1000"). checkSize(formatSize(n)) returns n for every safe integer n >= 0.
 */
export function formatSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`formatSize: not a byte count: ${bytes}`);
  if (bytes === 0) return "0";
  for (const [unit, factor] of FORMAT_UNITS) {
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
