import { ErrorCode, SnapvmError } from "../errors/index.ts";

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * For command-line flags (`--older-than 7d`): a whole number with a unit s, m, h, d or w (or a bare 0),
 * in milliseconds; SnapvmError(InvalidArgument) naming the input otherwise.
 */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)([smhdw])$/.exec(text.trim());
  const amount = match === null ? undefined : Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
  if (text.trim() === "0") return 0;
  if (amount === undefined || !Number.isSafeInteger(amount)) {
    throw new SnapvmError(
      ErrorCode.InvalidArgument,
      `invalid duration ${JSON.stringify(text)}: expected a whole number with a unit s, m, h, d or w, e.g. "7d" or "12h"`,
      {
        details: { value: text },
      },
    );
  }
  return amount;
}
