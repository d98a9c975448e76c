import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { SCRATCH_NAMES, scratchDirPrefix } from "../../paths/index.ts";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { instancePaths, parseInstanceName, type InstancePaths } from "../../paths/index.ts";
import { readStatus } from "../../store/status.ts";
import { lockOwner } from "../../store/lock.ts";
import { readIncoming, writeIncoming } from "./incoming.ts";
import type { ReceiveChannel } from "./protocol.ts";
import { recordMigration } from "./record.ts";
import { postcopyRamTarget, settlePostcopyRam } from "./settle-ram.ts";

const LISTEN_WAIT_MS = 30_000;
/** How long a completed move gets to finish here (its RAM going back to its file: a save and a resume). */
const SETTLE_WAIT_MS = 120_000;

/** Waits for the instance to run with its RAM in its own file (the first migrate-receive may still be settling it). */
async function waitRunning(paths: InstancePaths): Promise<void> {
  for (let waited = 0; ; waited += 200) {
    const running = (await readStatus(paths.status))?.state === "running" && (await postcopyRamTarget(paths)) === undefined;
    if (running && (await lockOwner(paths.agentLock)) !== undefined) return;
    if (waited > SETTLE_WAIT_MS) throw new SnapvmError(ErrorCode.MigrationFailed, `instance "${paths.dir}" did not come up here after its migration`);
    await sleep(200);
  }
}

/** The agent finished its bring-up (it writes `running` only then; while receiving, the state is `starting`) and lives. */
async function broughtUp(paths: InstancePaths): Promise<boolean> {
  const status = await readStatus(paths.status);
  return status?.state === "running" && status.agentPid !== undefined && (await lockOwner(paths.agentLock)) === status.agentPid;
}

/**
 * `migrate-receive`'s half of `snapvm migrate NAME --resume`: the instance's agent still receives a
 * post-copy that broke (its guest runs here, missing pages). The recovery socket goes into
 * incoming.json, where the agent's QEMU picks it up (migrate-pause if the stream still looks alive,
 * then migrate-recover); once the source has sent the rest the agent finishes its bring-up, and the
 * RAM goes back to the instance's file as after any post-copy.
 */
export async function recoverMigration(channel: ReceiveChannel, nameText: string, home: string): Promise<void> {
  const sockets = await mkdtemp(scratchDirPrefix("migration"));
  try {
    const name = parseInstanceName(nameText);
    const paths = instancePaths(name, home);
    if (!existsSync(paths.incoming) && existsSync(paths.dir)) {
      // The post-copy completed here before the source learned it (the link broke on its last words):
      // the guest runs here whole, and the source may end its copy.
      await waitRunning(paths);
      channel.send({ kind: "running", resumedAt: 0, readyMs: 0 });
      return;
    }
    const incoming = await readIncoming(paths).catch((cause: unknown) => {
      throw new SnapvmError(ErrorCode.InvalidTransition, `no migration of instance "${name}" is coming in here`, { cause });
    });
    const socket = join(sockets, SCRATCH_NAMES.migrationRecover);
    await writeIncoming(paths, { ...incoming, recover: socket });
    for (let waited = 0; !existsSync(socket); waited += 50) {
      // The post-copy completed here while this was asked (its last pages crossed before the link broke,
      // and the agent was still waiting for the guest): the agent no longer receives, and what this wrote
      // into incoming.json is stale. The guest runs here whole, as in the case above.
      if (await broughtUp(paths)) {
        await rm(paths.incoming, { force: true });
        await waitRunning(paths);
        channel.send({ kind: "running", resumedAt: 0, readyMs: 0 });
        return;
      }
      if (waited > LISTEN_WAIT_MS) throw new SnapvmError(ErrorCode.MigrationFailed, `the agent of "${name}" did not listen for the recovery`);
      await sleep(50);
    }
    channel.send({ kind: "listening", state: socket, disk: "" });
    // The agent removes incoming.json once the guest's whole RAM is here and it answers.
    while (existsSync(paths.incoming)) {
      if ((await lockOwner(paths.agentLock)) === undefined) throw new SnapvmError(ErrorCode.MigrationFailed, `the agent of "${name}" died during the recovery`);
      await sleep(100);
    }
    const ramSettle = await settlePostcopyRam(name, home);
    const now = new Date().toISOString();
    await recordMigration(paths, { cameFrom: { peer: "recovered post-copy", startedAt: now, finishedAt: now } });
    channel.send({ kind: "running", resumedAt: 0, readyMs: 0, ramSettle });
  } catch (error) {
    channel.send({
      kind: "failed",
      error: isSnapvmError(error)
        ? { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }
        : { code: ErrorCode.MigrationFailed, message: error instanceof Error ? error.message : String(error) },
    });
    throw error;
  } finally {
    await rm(sockets, { recursive: true, force: true });
  }
}
