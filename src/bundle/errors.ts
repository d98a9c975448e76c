import { ErrorCode, SnapvmError } from "../errors/index.ts";

/** E_BUNDLE_INVALID with details.reason: not-a-bundle, truncated, bad-json, bad-manifest, bad-record, bad-frame, digest-mismatch, trailing-bytes… */
export function invalidBundle(reason: string, message: string, hint = "Export the snapshot again; the bundle as given cannot be used."): SnapvmError {
  return new SnapvmError(ErrorCode.BundleInvalid, message, { hint, details: { reason } });
}
