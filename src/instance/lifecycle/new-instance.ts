import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import {
  instanceDirPaths,
  instancePaths,
  instancesDir,
  newInstanceTempDir,
  snapvmHome,
  UNIX_SOCKET_PATH_MAX,
  type InstanceName,
  type InstancePaths,
} from "../../paths/index.ts";
import { fsyncDirectory } from "../../util/fsync.ts";
import { ensurePrivateDir, sealTree } from "../../util/private-tree.ts";
import { removeStaleInstanceTemps } from "./crash-hygiene.ts";

function alreadyExists(name: InstanceName, dir: string, cause?: unknown): SnapvmError {
  return new SnapvmError(ErrorCode.InstanceExists, `instance "${name}" already exists in ${dir}`, {
    hint: `Pick another name, or delete it first with \`snapvm delete ${name}\`.`,
    details: { instance: name },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Checks a name for a new instance (create, import, fork): valid, free, and short enough for its sockets. */
export function claimNewInstance(name: InstanceName, home?: string): InstancePaths {
  const paths = instancePaths(name, home);
  if (existsSync(paths.dir)) throw alreadyExists(name, paths.dir);
  if (paths.consoleSocket.length > UNIX_SOCKET_PATH_MAX) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `the instance directory ${paths.dir} is too long for unix sockets (${UNIX_SOCKET_PATH_MAX} bytes)`, {
      hint: "Use a shorter name or a shorter SNAPVM_HOME.",
    });
  }
  return paths;
}

/**
 * The one way a new instance directory comes to exist (create, fork, import), so it exists whole
 * or not at all, private, and durable:
 *   1. claim the name (claimNewInstance); make the home and instances/ 0700; remove what a killed
 *      earlier build of this name left (its writer dead);
 *   2. mkdir a hidden temp sibling 0700 (newInstanceTempDir; `list` skips dot-names);
 *   3. `fill` writes the instance into it, given the temp dir's paths (same layout) and the final
 *      ones (what a launch spec must name, since QEMU runs after the rename);
 *   4. seal the tree: group/other bits off, every file and directory fsynced;
 *   5. rename into place (refused if the name was taken meanwhile), fsync instances/.
 * Undo on any failure before 5: remove the temp directory.
 */
export async function buildNewInstance<T>(
  name: InstanceName,
  home: string | undefined,
  fill: (temp: InstancePaths, final: InstancePaths) => Promise<T>,
): Promise<{ paths: InstancePaths; result: T }> {
  const paths = claimNewInstance(name, home);
  const root = home ?? snapvmHome();
  if (!existsSync(root)) await ensurePrivateDir(root);
  await ensurePrivateDir(instancesDir(root));
  // A killed earlier build of this name (a fork, create or import) left its temp directory.
  await removeStaleInstanceTemps(instancesDir(root), basename(paths.dir));
  const temp = newInstanceTempDir(basename(paths.dir), randomBytes(4).toString("hex"), root);
  await ensurePrivateDir(temp);
  let result: T;
  try {
    result = await fill(instanceDirPaths(temp), paths);
    await sealTree(temp);
    // rename(2) replaces an empty directory silently; a full one fails with ENOTEMPTY or EEXIST.
    if (existsSync(paths.dir)) throw alreadyExists(name, paths.dir);
    await rename(temp, paths.dir).catch((error: unknown) => {
      throw isErrno(error, "ENOTEMPTY") || isErrno(error, "EEXIST") ? alreadyExists(name, paths.dir, error) : error;
    });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  await fsyncDirectory(instancesDir(root));
  return { paths, result };
}
