import { setTimeout as sleep } from "node:timers/promises";
import { agentClient } from "../access/agent-client.ts";
import type { StopMode, StopResponse } from "../../api/schemas.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { lockOwner } from "../../store/lock.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { readoptIfOrphaned } from "./readopt.ts";

/**
 * Waits until the agent (pid `pid`) has let the instance go: released the instance's lock (after its
 * sockets are removed) or exited, so the lock and sockets are free for the next start. An agent
 * serving a fork group lets each instance go on its own and lives on for the others.
 */
export async function waitAgentGone(pid: number, agentLock: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await lockOwner(agentLock)) === pid) {
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.AgentFailed, `agent pid ${pid} did not let its instance go within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** Stops a running instance (save, shutdown or kill, per `mode`) and returns once its agent has exited. */
export async function stopInstance(
  name: InstanceName,
  mode: StopMode,
  home?: string,
  onProgress?: (step: string) => void,
): Promise<StopResponse & { name: string }> {
  // A dead agent's QEMU is re-adopted first, so the guest is stopped as asked (saved, say), not lost.
  const { current } = await readoptIfOrphaned(name, home, await inspectInstance(name, home));
  if (current.agentPid === undefined) {
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is not running (${current.state})`, {
      hint: current.state === "suspended" ? `Its state is saved; \`snapvm start ${name}\` resumes it.` : `Start it with \`snapvm start ${name}\`.`,
      details: { instance: name, state: current.state },
    });
  }
  onProgress?.(
    mode === "force"
      ? "killing QEMU"
      : mode === "shutdown"
        ? "waiting for the guest to shut down"
        : mode === "save"
          ? "waiting for the agent to save the state"
          : "waiting for the agent (save or shut down, per saveOnStop)",
  );
  const response = await agentClient(name, home).stop({ mode });
  onProgress?.("waiting for the agent to exit");
  await waitAgentGone(current.agentPid, instancePaths(name, home).agentLock);
  return { name, ...response };
}
