export { ErrorCode } from "./codes.ts";
export { SnapvmError, isSnapvmError, isErrno, type SnapvmErrorOptions } from "./snapvm-error.ts";
