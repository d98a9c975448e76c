import { rm } from "node:fs/promises";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { startInstance, type StartHooks, type StartResult } from "./start.ts";
import { stopInstance } from "./stop.ts";

/**
 * Cold boot with the current snapvm.yaml: shut down if running (never saving), drop any saved state
 * (the user asked for a fresh boot), start.
 */
export async function restartInstance(name: InstanceName, hooks: StartHooks = {}): Promise<StartResult & { droppedState: boolean }> {
  const current = await inspectInstance(name, hooks.home);
  if (current.agentPid !== undefined) await stopInstance(name, "shutdown", hooks.home, hooks.onProgress);
  const droppedState = current.suspended !== undefined;
  await rm(instancePaths(name, hooks.home).suspendDir, { recursive: true, force: true });
  return { ...(await startInstance(name, hooks)), droppedState };
}
