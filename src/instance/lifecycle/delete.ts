import { rename, rm } from "node:fs/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instanceDeleteDir, instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { acquireLock } from "../../store/lock.ts";
import { processAlive } from "../../util/process-alive.ts";
import { cleanUpUnderLock } from "./crash-hygiene.ts";
import { forksOfInstance } from "../snapshots/list.ts";
import { stopInstance, waitAgentGone } from "./stop.ts";

/**
 * Deletes an instance and everything in its directory. Steps:
 *   1. refuse if forks depend on one of its snapshots (their disks and RAM are overlays on them;
 *      `force` does not override this: the forks would break);
 *   2. a running instance only with `force`: it is killed first;
 *   3. take the instance lock, so no `start` can bring it up meanwhile;
 *   4. rename the directory to a hidden name (the instance is gone at once: a start now finds nothing),
 *      then remove it.
 */
export async function deleteInstance(name: InstanceName, options: { force?: boolean; home?: string } = {}): Promise<{ name: string; deleted: true }> {
  const current = await inspectInstance(name, options.home);
  await refuseIfForked(name, options.home);
  if (current.orphanedQemuPid !== undefined && options.force !== true) {
    throw new SnapvmError(
      ErrorCode.InstanceRunning,
      `instance "${name}" still runs (QEMU pid ${current.orphanedQemuPid}, its agent died); refusing to delete it`,
      {
        hint: `\`snapvm start ${name}\` re-adopts it; or \`snapvm delete --force ${name}\` kills and deletes it.`,
        details: { instance: name, state: current.state },
      },
    );
  }
  if (current.agentPid !== undefined) {
    if (options.force !== true) {
      throw new SnapvmError(ErrorCode.InstanceRunning, `instance "${name}" is ${current.state}; refusing to delete it`, {
        hint: `Stop it first, or use \`snapvm delete --force ${name}\` to kill and delete it.`,
        details: { instance: name, state: current.state },
      });
    }
    await stopInstance(name, "force", options.home).catch(async () => {
      // The agent did not answer: end it and its QEMU by pid.
      for (const pid of [current.status?.qemuPid, current.agentPid]) if (pid !== undefined && processAlive(pid)) process.kill(pid, "SIGKILL");
      if (current.agentPid !== undefined) await waitAgentGone(current.agentPid, instancePaths(name, options.home).agentLock);
    });
  }
  const paths = instancePaths(name, options.home);
  const lock = await acquireLock(paths.agentLock, name);
  const doomed = instanceDeleteDir(name, options.home);
  try {
    await refuseIfForked(name, options.home); // a fork made while the instance was being stopped
    await cleanUpUnderLock(paths, "kill"); // an orphaned QEMU (allowed by --force above) and temp directories
    await rename(paths.dir, doomed);
  } catch (error) {
    await lock.release();
    throw error;
  }
  // The lock file went with the directory: nothing to release.
  await rm(doomed, { recursive: true, force: true });
  return { name, deleted: true };
}

async function refuseIfForked(name: InstanceName, home: string | undefined): Promise<void> {
  const forks = await forksOfInstance(name, home);
  if (forks.length === 0) return;
  const list = forks.map((f) => `${f.name} (from ${name}@${f.tag})`).join(", ");
  throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${name}" has forks that depend on its snapshots: ${list}; refusing to delete it`, {
    hint: `Delete the forks first (${forks.map((f) => `\`snapvm delete ${f.name}\``).join(", ")}), then this instance; --force does not override this.`,
    details: { instance: name, forks: forks.map((f) => ({ name: f.name, tag: f.tag })) },
  });
}
