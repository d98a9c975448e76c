import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/** Renders an offset both ways: people read hex dumps, tools read decimal. */
export function at(offset: number): string {
  return `${offset} (0x${offset.toString(16)})`;
}

/**
 * The only error the stream decoder throws on bad input: StateInvalid, naming the byte offset in the
 * message and in details, so `snapshot inspect --json` can point at the spot in a hex dump.
 */
export function streamError(offset: number, what: string, details: Record<string, unknown> = {}): SnapvmError {
  return new SnapvmError(ErrorCode.StateInvalid, `QEMU migration stream is malformed at offset ${at(offset)}: ${what}`, {
    hint: "The device-state file is damaged, truncated, or was not written by QEMU's `migrate file:`.",
    details: { offset, ...details },
  });
}

/** A decoder limit was hit: the input may be genuine but huge, or hostile; either way decoding stops here. */
export function limitError(offset: number, what: string, limit: number): SnapvmError {
  return new SnapvmError(
    ErrorCode.StateInvalid,
    `QEMU migration stream exceeds a decoder limit at offset ${at(offset)}: limit exceeded: ${what} (limit ${limit})`,
    {
      hint: "If the file is genuine, inspect it with a larger limit.",
      details: { offset, limit },
    },
  );
}
