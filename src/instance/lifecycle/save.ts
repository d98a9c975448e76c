import type { SaveFigures } from "../../api/schemas.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { agentClient } from "../access/agent-client.ts";
import { waitAgentGone } from "./stop.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { readoptIfOrphaned } from "./readopt.ts";

/** `snapvm save`: always saves the state (whatever saveOnStop says) and stops the VM. */
export async function saveInstance(name: InstanceName, home?: string, onProgress?: (step: string) => void): Promise<SaveFigures & { name: string }> {
  const { current } = await readoptIfOrphaned(name, home, await inspectInstance(name, home));
  if (current.agentPid === undefined) {
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is not running (${current.state}); there is nothing to save`, {
      hint: current.state === "suspended" ? "Its state is already saved." : `Start it with \`snapvm start ${name}\`.`,
      details: { instance: name, state: current.state },
    });
  }
  onProgress?.("waiting for the agent to save the state");
  const figures = await agentClient(name, home).save();
  onProgress?.("waiting for the agent to exit");
  await waitAgentGone(current.agentPid, instancePaths(name, home).agentLock);
  return { name, ...figures };
}
