import { realpath } from "node:fs/promises";
import { driver, type RunningVm, type VmmProcess } from "../driver/index.ts";
import { waitGuestReady } from "../instance/boot/guest-ready.ts";
import { readPinnedConfig, readPinnedLaunch } from "../instance/boot/pinned-boot.ts";
import { settingsFromPinned, type RuntimeSettings } from "../instance/boot/settings.ts";
import { pointDiskAt } from "../instance/disk/layers.ts";
import { killAndWait } from "../instance/lifecycle/crash-hygiene.ts";
import { GUEST_RAN_REASON, moveStateAside, stateWasResumed } from "../instance/suspend/restore-state.ts";
import type { InstancePaths } from "../paths/index.ts";
import type { PinnedLaunch } from "../snapshot/launch.ts";
import { currentSettings } from "./bring-up.ts";

/** How long a dead agent's QEMU gets to answer on QMP before it counts as broken. */
const ADOPT_QMP_TIMEOUT_MS = 3000;
export interface Adopted {
  vm: RunningVm;
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
export async function adoptOrphan(paths: InstancePaths, orphan: VmmProcess): Promise<AdoptOutcome> {
  const started = performance.now();
  let vm: RunningVm | undefined;
  const giveUp = async (why: string): Promise<AdoptOutcome> => {
    vm?.closeChannels();
    await killAndWait(orphan.pid);
    return { killed: `killed QEMU pid ${orphan.pid} left by a dead agent: ${why}` };
  };
  let launch: PinnedLaunch;
  try {
    launch = await readPinnedLaunch(paths);
    vm = await driver.launcher.adopt(launch.spec, orphan, { controlTimeoutMs: ADOPT_QMP_TIMEOUT_MS });
  } catch (error) {
    return giveUp(`it could not be re-adopted (${error instanceof Error ? error.message : String(error)})`);
  }
  const warnings: string[] = [];
  try {
    warnings.push(...(await vm.settle()));
    const top = (await driver.snapshots.activeDisk(vm)).file;
    if (top !== (await realpath(paths.disk))) {
      await pointDiskAt(paths, top);
      warnings.push(`pointed disk.qcow2 at ${top}, the layer QEMU writes`);
    }
  } catch (error) {
    return giveUp(`it could not be resumed (${error instanceof Error ? error.message : String(error)})`);
  }
  if (stateWasResumed(paths)) {
    const aside = await moveStateAside(paths, `its agent died after a restore resumed the guest, which was re-adopted; ${GUEST_RAN_REASON}`, {
      withRam: false,
    });
    if (aside !== undefined) warnings.push(`kept the restored state aside in ${aside}`);
  }
  const settings = await currentSettings(paths).catch(async () => settingsFromPinned(await readPinnedConfig(paths)));
  // Running is what matters; a guest agent that is slow to answer is worth a warning, not the guest.
  await waitGuestReady(vm, settings.restoreMs).catch((error: unknown) => {
    warnings.push(`the guest did not answer within ${settings.restoreMs} ms: ${error instanceof Error ? error.message : String(error)}`);
  });
  return { adopted: { vm, launch, settings, readyMs: performance.now() - started, warnings } };
}
