import { readdir, rm } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { InstancePaths } from "../paths/index.ts";
import { driver } from "../driver/index.ts";
import { processAlive } from "../util/process-alive.ts";
import { isActive } from "../store/instance-state.ts";
import type { InstanceStatus } from "../store/status.ts";

const REAP_WAIT_MS = 15_000;

/**
 * Cleans up after an agent that was killed: its QEMU may still run (nothing ties QEMU's life to
 * the agent's) and would hold the disk lock and answer on the instance's sockets; a save may have
 * left a temp directory. A complete state (renamed into place) is kept; a partial one never looks
 * valid and is removed. Call only while holding the instance lock.
 */
export async function reapOrphans(paths: InstancePaths, previous: InstanceStatus | undefined): Promise<string[]> {
  const reaped: string[] = [];
  // Only an agent that died while active can have left a QEMU; after a clean stop the /proc scan
  // (~30 ms) is skipped, which matters on the resume path.
  const orphans = previous !== undefined && isActive(previous.state) ? await driver.launcher.processesServing(paths.qmpSocket) : [];
  for (const pid of orphans) {
    process.kill(pid, "SIGKILL");
    // Until it is gone it holds the disk's lock and the instance's sockets: never start beside it.
    const deadline = Date.now() + REAP_WAIT_MS;
    while (processAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`QEMU pid ${pid}, left by a dead agent, did not exit within ${REAP_WAIT_MS} ms of SIGKILL`);
      await sleep(5);
    }
    reaped.push(`killed QEMU pid ${pid} left by a dead agent`);
  }
  const prefix = `${basename(paths.suspendDir)}.tmp-`;
  for (const entry of await readdir(dirname(paths.suspendDir))) {
    if (entry.startsWith(prefix)) {
      await rm(join(dirname(paths.suspendDir), entry), { recursive: true, force: true });
      reaped.push(`removed the partial state ${entry}`);
    }
  }
  return reaped;
}
