import { ErrorCode, SnapvmError } from "../errors/index.ts";

/**
 * Instance names become directory names and parts of unix socket paths, which Linux caps at
 * 107 bytes (paths/UNIX_SOCKET_PATH_MAX); 32 characters leaves room for a deep SNAPVM_HOME.
 */
export const INSTANCE_NAME_MAX = 32;

const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

const HINT = `Use 1 to ${INSTANCE_NAME_MAX} characters: lowercase letters, digits and '-', starting with a letter (e.g. "dev-1").`;

/** Returns `name` if it is a valid instance name; otherwise throws SnapvmError(InvalidName) saying why. */
export function validateInstanceName(name: string): string {
  const why = whyInvalidName(name);
  if (why !== undefined) {
    throw new SnapvmError(ErrorCode.InvalidName, `invalid instance name ${JSON.stringify(name)}: ${why}`, {
      hint: HINT,
      details: { name },
    });
  }
  return name;
}

export function isValidInstanceName(name: string): boolean {
  return whyInvalidName(name) === undefined;
}

function whyInvalidName(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (name.length > INSTANCE_NAME_MAX) return `it is ${name.length} characters long (at most ${INSTANCE_NAME_MAX})`;
  if (NAME_PATTERN.test(name)) return undefined;
  if (!/^[a-z]/.test(name)) return "it must start with a lowercase letter";
  const bad = /[^a-z0-9-]/u.exec(name)?.[0] ?? "";
  return `${JSON.stringify(bad)} is not allowed (only lowercase letters, digits and '-')`;
}
