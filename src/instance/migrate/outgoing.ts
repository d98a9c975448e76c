import { lstat } from "node:fs/promises";
import { isAbsolute, normalize } from "node:path";
import type { MigrateRequest, MigrateResponse, MigrateResumeRequest } from "../../api/schemas.ts";
import { driver, type MigrationProgress, type RunningVm } from "../../driver/index.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { UNIX_SOCKET_PATH_MAX } from "../../paths/index.ts";

/** The sockets come over the API: short absolute paths to existing sockets (the caller's SSH forwards). */
async function checkSocket(path: string): Promise<void> {
  const facts =
    isAbsolute(path) && normalize(path) === path && Buffer.byteLength(path) <= UNIX_SOCKET_PATH_MAX ? await lstat(path).catch(() => undefined) : undefined;
  if (facts?.isSocket() !== true)
    throw new SnapvmError(ErrorCode.InvalidArgument, `the migration socket ${JSON.stringify(path.slice(0, 200))} is not a listening unix socket`, {
      hint: "snapvm migrate forwards both sockets itself; give the paths of listening unix sockets.",
    });
}

/**
 * The agent's half of `snapvm migrate` on the source: the disk's top layer is mirrored and the RAM sent
 * (pre-copy) to the destination through the caller's forwarded sockets. On success the guest is left
 * paused, as the destination is about to resume it: POST /v1/migrate/finish ends this QEMU or resumes it.
 * On failure the guest runs on here.
 */
export async function migrateOut(vm: RunningVm, request: MigrateRequest, onProgress: (progress: MigrationProgress) => void): Promise<MigrateResponse> {
  const started = performance.now();
  await checkSocket(request.stateSocket);
  await checkSocket(request.diskSocket);
  try {
    const sent = await driver.migration.send(
      vm,
      { state: request.stateSocket, disk: request.diskSocket },
      {
        timeoutMs: request.timeoutMs,
        onProgress,
        postcopy: request.postcopy === true,
        postcopyAtOnce: request.postcopyAtOnce === true,
        ...(request.bandwidth === undefined ? {} : { bandwidth: request.bandwidth }),
      },
    );
    return { ...sent, totalMs: performance.now() - started };
  } catch (error) {
    if (isSnapvmError(error) && error.details["postcopyInterrupted"] === true) throw error;
    throw new SnapvmError(ErrorCode.MigrationFailed, `instance "${vm.spec.name}": the migration failed before its switch-over; the guest runs on here`, {
      cause: error,
      details: { instance: vm.spec.name, guest: "source", reason: error instanceof Error ? error.message : String(error) },
    });
  }
}

/** The agent's half of `snapvm migrate --resume`: a broken post-copy goes on through the caller's new socket. */
export async function resumeOut(vm: RunningVm, request: MigrateResumeRequest): Promise<{ bytes: number }> {
  await checkSocket(request.stateSocket);
  return driver.migration.resume(vm, { state: request.stateSocket }, request.timeoutMs);
}
