import { AgentClient } from "../../api/client.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { lockOwner } from "../../store/lock.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { readoptIfOrphaned } from "../lifecycle/readopt.ts";

export function agentClient(name: InstanceName, home?: string): AgentClient {
  return new AgentClient(instancePaths(name, home).agentSocket, name);
}

/**
 * Calls the instance's agent; when its agent died but its QEMU runs, re-adopts it first
 * (readoptIfOrphaned); when there is no agent to call, says what state the instance is in instead
 * of a socket error.
 */
export async function withAgent<T>(name: InstanceName, home: string | undefined, call: (client: AgentClient) => Promise<T>): Promise<T> {
  if ((await lockOwner(instancePaths(name, home).agentLock)) === undefined) {
    // A dead agent's QEMU still running is re-adopted by a new agent, which then answers the call.
    const { current } = await readoptIfOrphaned(name, home);
    if (current.agentPid !== undefined) return call(agentClient(name, home));
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is not running (${current.state})`, {
      hint: `Start it with \`snapvm start ${name}\`.`,
      details: { instance: name, state: current.state },
    });
  }
  return call(agentClient(name, home));
}
