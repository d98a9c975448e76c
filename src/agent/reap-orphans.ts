import { readdir, readFile, rm } from "node:fs/promises";
import { dirname, basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { InstancePaths } from "../paths/index.ts";
import type { InstanceStatus } from "../store/status.ts";
import { processAlive } from "../util/process-alive.ts";

async function isOurQemu(pid: number, paths: InstancePaths): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.includes("qemu-system") && cmdline.includes(paths.qmpSocket);
}

/**
 * Cleans up after an agent that was killed: its QEMU may still run (nothing ties QEMU's life to
 * the agent's), and a save may have left a temp directory. A complete state (renamed into place)
 * is kept; a partial one never looks valid and is removed.
 */
export async function reapOrphans(paths: InstancePaths, previous: InstanceStatus | undefined): Promise<string[]> {
  const reaped: string[] = [];
  const pid = previous?.qemuPid;
  if (pid !== undefined && processAlive(pid) && (await isOurQemu(pid, paths))) {
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 500 && processAlive(pid); i++) await sleep(2);
    reaped.push(`killed QEMU pid ${pid} left by a dead agent`);
  }
  const prefix = `${basename(paths.suspendDir)}.tmp-`;
  for (const entry of await readdir(dirname(paths.suspendDir))) {
    if (entry.startsWith(prefix)) {
      await rm(`${dirname(paths.suspendDir)}/${entry}`, { recursive: true, force: true });
      reaped.push(`removed the partial state ${entry}`);
    }
  }
  return reaped;
}
