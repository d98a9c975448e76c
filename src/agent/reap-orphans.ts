import { existsSync } from "node:fs";
import type { InstancePaths } from "../paths/index.ts";
import { driver, type VmmProcess } from "../driver/index.ts";
import { cleanUpAfterCrash, killAndWait } from "../instance/lifecycle/crash-hygiene.ts";
import { stateWasResumed } from "../instance/suspend/restore-state.ts";
import { isActive } from "../store/instance-state.ts";
import type { InstanceStatus } from "../store/status.ts";

export interface OrphanFindings {
  /** What was cleaned up or killed, for the events log. */
  done: string[];
  /** The dead agent's QEMU, still running and to be re-adopted. */
  adopt?: VmmProcess;
}

/**
 * Cleans up after an agent that was killed (crash-hygiene.ts), and decides about its QEMU, which
 * nothing ties to the agent's life. A complete saved state not yet resumed (a save that finished
 * before the agent died, or a restore that had not resumed the guest) is the truth: the QEMU is
 * killed and the state restored. Otherwise the running guest is worth more than anything on disk:
 * the QEMU is handed back for adoption (adopt.ts). Call only while holding the instance lock.
 */
export async function reapOrphans(paths: InstancePaths, previous: InstanceStatus | undefined): Promise<OrphanFindings> {
  // Only an agent that died while active can have left a QEMU; after a clean stop the /proc scans
  // (~30 ms each) are skipped, which matters on the resume path.
  if (previous === undefined || !isActive(previous.state)) return { done: await cleanUpAfterCrash(paths, { processes: false }) };
  const done = await cleanUpAfterCrash(paths);
  const orphans = await driver.launcher.processesServing(paths.qmpSocket);
  const stateRules = existsSync(paths.suspendDir) && !stateWasResumed(paths);
  const [only] = orphans;
  if (only !== undefined && orphans.length === 1 && !stateRules) return { done, adopt: only };
  for (const orphan of orphans) {
    await killAndWait(orphan.pid);
    done.push(
      `killed QEMU pid ${orphan.pid} left by a dead agent (${stateRules ? "its saved state is complete and is restored instead" : "more than one QEMU claimed the instance"})`,
    );
  }
  return { done };
}
