import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import type { InstanceName } from "../../paths/index.ts";
import { inspectInstance, type InstanceSummary } from "../../store/inspect.ts";
import { startInstance } from "./start.ts";

/**
 * For a command that needs the instance's agent (exec, stop, save, snapshot create): when its agent
 * died and its QEMU still runs, a new agent re-adopts it first, the same way `snapvm start` does
 * (startInstance; the agent's reapOrphans/adoptOrphan decide, and a QEMU too broken to adopt is
 * killed with the reason recorded). Returns the instance as it is afterwards, so the caller finds
 * the new agent, and whether a re-adoption happened. Another command re-adopting at the same time is
 * as good: its agent owns the instance now (E_INSTANCE_RUNNING or E_INSTANCE_LOCKED here).
 */
export async function readoptIfOrphaned(name: InstanceName, home?: string, known?: InstanceSummary): Promise<{ current: InstanceSummary; readopted: boolean }> {
  const current = known ?? (await inspectInstance(name, home));
  if (current.orphanedQemuPid === undefined) return { current, readopted: false };
  try {
    await startInstance(name, home === undefined ? {} : { home });
  } catch (error) {
    if (!isSnapvmError(error) || (error.code !== ErrorCode.InstanceRunning && error.code !== ErrorCode.InstanceLocked)) throw error;
  }
  return { current: await inspectInstance(name, home), readopted: true };
}
