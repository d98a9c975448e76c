import { realpath } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { QemuVm } from "../driver/qemu/vm.ts";
import type { MigrationStatus } from "../driver/qemu/qmp/qapi-migration.ts";
import type { RunState } from "../driver/qemu/qmp/qapi-machine.ts";
import { waitGuestReady } from "../instance/boot/guest-ready.ts";
import { readPinnedConfig, readPinnedLaunch } from "../instance/boot/pinned-boot.ts";
import { settingsFromPinned, type RuntimeSettings } from "../instance/boot/settings.ts";
import { pointDiskAt } from "../instance/disk/layers.ts";
import { killAndWait, type QemuProcessInfo } from "../instance/lifecycle/crash-hygiene.ts";
import { GUEST_RAN_REASON, moveStateAside, stateWasResumed } from "../instance/suspend/restore-state.ts";
import type { InstancePaths } from "../paths/index.ts";
import type { PinnedLaunch } from "../snapshot/launch.ts";
import { currentSettings } from "./bring-up.ts";

/** How long a dead agent's QEMU gets to answer on QMP before it counts as broken. */
const ADOPT_QMP_TIMEOUT_MS = 3000;
const CANCEL_TIMEOUT_MS = 10_000;
/** Migration states in which a migration is still under way and must be cancelled before `cont`. */
const MIGRATING: readonly MigrationStatus[] = ["setup", "active", "pre-switchover", "device", "cancelling", "wait-unplug"];
/** Run states a guest paused mid-operation is in: `cont` brings it back. Others mean a broken QEMU. */
const RESUMABLE: readonly RunState[] = ["paused", "postmigrate", "finish-migrate", "save-vm", "prelaunch"];

export interface Adopted {
  vm: QemuVm;
  launch: PinnedLaunch;
  settings: RuntimeSettings;
  readyMs: number;
  warnings: string[];
}

export type AdoptOutcome = { adopted: Adopted } | { killed: string };

/**
 * Re-adopts the QEMU of an agent that died (reap-orphans.ts decided it is worth keeping): connects to
 * its QMP socket, cancels a migration left under way (a live snapshot's pre-copy, a save), resumes a
 * guest left paused mid-operation, points disk.qcow2 at the layer QEMU really writes (a snapshot may
 * have died between switching the disk and moving the link), and keeps aside a state whose restore
 * had resumed the guest. The pinned launch (boot/launch.json) says its spec. A QEMU that does not
 * answer or cannot be resumed is broken: it is killed (there is no way to save a QEMU that does not
 * answer) and the reason returned.
 */
export async function adoptOrphan(paths: InstancePaths, orphan: QemuProcessInfo): Promise<AdoptOutcome> {
  const started = performance.now();
  let vm: QemuVm | undefined;
  const giveUp = async (why: string): Promise<AdoptOutcome> => {
    vm?.closeChannels();
    await killAndWait(orphan.pid);
    return { killed: `killed QEMU pid ${orphan.pid} left by a dead agent: ${why}` };
  };
  let launch: PinnedLaunch;
  try {
    launch = await readPinnedLaunch(paths);
    vm = await QemuVm.adopt(launch.spec, orphan.argv, orphan.pid, { qmpTimeoutMs: ADOPT_QMP_TIMEOUT_MS });
  } catch (error) {
    return giveUp(`it could not be re-adopted (${error instanceof Error ? error.message : String(error)})`);
  }
  const warnings: string[] = [];
  try {
    const migration = await vm.qmp.execute("query-migrate");
    if (migration.status !== undefined && MIGRATING.includes(migration.status)) {
      await vm.qmp.execute("migrate_cancel");
      const deadline = Date.now() + CANCEL_TIMEOUT_MS;
      for (;;) {
        const now = (await vm.qmp.execute("query-migrate")).status;
        if (now === undefined || !MIGRATING.includes(now)) break;
        if (Date.now() > deadline) throw new Error(`its migration (${now}) did not end within ${CANCEL_TIMEOUT_MS} ms of migrate_cancel`);
        await sleep(20);
      }
      warnings.push(`cancelled the migration its agent left ${migration.status}`);
    }
    const status = await vm.qmp.execute("query-status");
    if (!status.running) {
      if (!RESUMABLE.includes(status.status)) throw new Error(`its guest is ${status.status}`);
      await vm.qmp.execute("cont");
      warnings.push(`resumed the guest, left ${status.status} by its agent`);
    }
    const top = (await vm.qmp.execute("query-block")).find((b) => b.qdev?.includes("/vda/") === true || b.qdev === "vda")?.inserted?.file;
    if (top !== undefined && top !== (await realpath(paths.disk))) {
      await pointDiskAt(paths, top);
      warnings.push(`pointed disk.qcow2 at ${top}, the layer QEMU writes`);
    }
  } catch (error) {
    return giveUp(`it could not be resumed (${error instanceof Error ? error.message : String(error)})`);
  }
  if (stateWasResumed(paths)) {
    const aside = await moveStateAside(paths, `its agent died after a restore resumed the guest, which was re-adopted; ${GUEST_RAN_REASON}`, { withRam: false });
    if (aside !== undefined) warnings.push(`kept the restored state aside in ${aside}`);
  }
  const settings = await currentSettings(paths).catch(async () => settingsFromPinned(await readPinnedConfig(paths)));
  // Running is what matters; a guest agent that is slow to answer is worth a warning, not the guest.
  await waitGuestReady(vm, settings.restoreMs).catch((error: unknown) => {
    warnings.push(`the guest did not answer within ${settings.restoreMs} ms: ${error instanceof Error ? error.message : String(error)}`);
  });
  return { adopted: { vm, launch, settings, readyMs: performance.now() - started, warnings } };
}
