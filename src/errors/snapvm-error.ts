import type { ErrorCode } from "./codes.ts";

export interface SnapvmErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  cause?: unknown;
  /** Extra facts for --json output and logs (instance name, path, ...). */
  details?: Record<string, unknown>;
}

/**
 * An error a user is meant to read: a stable code, a message naming the instance or path,
 * a hint, and the cause. Bugs stay plain `Error`s so they keep their stack.
 */
export class SnapvmError extends Error {
  override readonly name = "SnapvmError";
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SnapvmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      details: this.details,
    };
  }
}

export function isSnapvmError(error: unknown, code?: ErrorCode): error is SnapvmError {
  return error instanceof SnapvmError && (code === undefined || error.code === code);
}

/** Narrow Node's system errors by errno code without catching everything. */
export function isErrno(error: unknown, code: string): error is NodeJS.ErrnoException {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
