import { ErrorCode, SnapvmError, type SnapvmErrorOptions } from "../../errors/index.ts";

/**
 * Where decryption failed. Kept apart because a lower-level failure must not be masked by a
 * higher-level one: `header` = malformed or truncated header, `mac` = a file key was unwrapped but the
 * header MAC differs, `payload` = the STREAM payload is tampered with, truncated or has trailing data.
 */
export type DecryptStage = "header" | "mac" | "payload";

export function decryptError(stage: DecryptStage, message: string, options: SnapvmErrorOptions = {}): SnapvmError {
  return new SnapvmError(ErrorCode.DecryptFailed, `age: ${message}`, {
    hint: options.hint ?? "the encrypted stream is damaged, truncated or not an age v1 file",
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    details: { ...options.details, stage },
  });
}

export function invalidKey(message: string, details: Record<string, unknown> = {}): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidArgument, message, {
    hint: "age recipients look like age1…, identities like AGE-SECRET-KEY-1… (age-keygen's format)",
    details,
  });
}
