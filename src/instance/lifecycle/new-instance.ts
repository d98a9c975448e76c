import { existsSync } from "node:fs";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, UNIX_SOCKET_PATH_MAX, type InstancePaths, type InstanceName } from "../../paths/index.ts";

/** Checks a name for a new instance (create, import, fork): valid, free, and short enough for its sockets. */
export function claimNewInstance(name: InstanceName, home?: string): InstancePaths {
  const paths = instancePaths(name, home);
  if (existsSync(paths.dir)) {
    throw new SnapvmError(ErrorCode.InstanceExists, `instance "${name}" already exists in ${paths.dir}`, {
      hint: `Pick another name, or delete it first with \`snapvm delete ${name}\`.`,
      details: { instance: name },
    });
  }
  if (paths.consoleSocket.length > UNIX_SOCKET_PATH_MAX) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `the instance directory ${paths.dir} is too long for unix sockets (${UNIX_SOCKET_PATH_MAX} bytes)`, {
      hint: "Use a shorter name or a shorter SNAPVM_HOME.",
    });
  }
  return paths;
}
