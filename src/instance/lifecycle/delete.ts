import type { InstanceName } from "../../paths/index.ts";
import { rm } from "node:fs/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { processAlive } from "../../util/process-alive.ts";
import { stopInstance, waitAgentGone } from "./stop.ts";

/** Deletes an instance and everything in its directory. A running one only with `force` (it is killed first). */
export async function deleteInstance(name: InstanceName, options: { force?: boolean; home?: string } = {}): Promise<{ name: string; deleted: true }> {
  const current = await inspectInstance(name, options.home);
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
      if (current.agentPid !== undefined) await waitAgentGone(current.agentPid);
    });
  }
  await rm(instancePaths(name, options.home).dir, { recursive: true, force: true });
  return { name, deleted: true };
}
