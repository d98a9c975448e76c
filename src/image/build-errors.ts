import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { CommandFailedError } from "../util/run-command.ts";

const SETUP_HINT = "Install the host tools with scripts/setup-host.sh.";

function hintFor(error: CommandFailedError, cacheDir: string): string {
  if (error.result === undefined) return `${error.command} is missing or cannot run. ${SETUP_HINT}`;
  switch (error.command) {
    case "apt-get":
      return `apt-get download needs the Debian mirror unless the .deb is cached in ${cacheDir}; check the network and run \`apt-get update\`.`;
    case "apt-cache":
      return "Run `apt-get update` so apt knows the current packages (scripts/setup-host.sh does it).";
    default:
      return SETUP_HINT;
  }
}

/** File system errors a user can fix (disk full, permissions); others stay bugs. */
const USER_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS"]);

/**
 * Turns a failure during `step` into SnapvmError(ImageBuildFailed) with a hint. SnapvmErrors pass
 * through with their own code; unexpected errors are returned unchanged so bugs keep their stack.
 */
export function wrapBuildError(error: unknown, step: string, cacheDir: string): unknown {
  if (error instanceof SnapvmError) return error;
  if (error instanceof CommandFailedError) {
    return new SnapvmError(ErrorCode.ImageBuildFailed, `building the tiny image failed (${step}): ${error.message}`, {
      hint: hintFor(error, cacheDir),
      cause: error,
      details: { step },
    });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof Error && code !== undefined && USER_ERRNOS.has(code)) {
    return new SnapvmError(ErrorCode.ImageBuildFailed, `building the tiny image failed (${step}): ${error.message}`, {
      hint: code === "ENOSPC" || code === "EDQUOT" ? "Free some disk space (the build needs about 500 MB)." : "Check the permissions of SNAPVM_HOME.",
      cause: error,
      details: { step },
    });
  }
  return error;
}
