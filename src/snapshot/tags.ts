import { ErrorCode, SnapvmError } from "../errors/index.ts";

const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Snapshot tags name directories: letters, digits, '.', '_' and '-', starting with a letter or digit. */
export function validateTag(tag: string): string {
  if (!TAG.test(tag)) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `invalid snapshot tag ${JSON.stringify(tag)}`, {
      hint: "Use up to 63 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    });
  }
  return tag;
}
