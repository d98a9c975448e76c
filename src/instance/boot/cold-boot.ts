import { mkdir, rm } from "node:fs/promises";
import { instanceIdFor, writeCidata } from "../../cloudinit/index.ts";
import type { CompleteConfigFile, InstanceConfig } from "../../config/index.ts";
import type { GuestAccess, LaunchSpec } from "../../config/launch-spec.ts";
import { driver, type RunningVm } from "../../driver/index.ts";
import { ensureSshKey, sshKeyComment } from "../../driver/ssh/keygen.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import type { InstancePaths, InstanceName } from "../../paths/index.ts";
import { tailFile } from "../../util/tail-file.ts";
import { launchSpecFromConfig } from "./launch-spec.ts";
import { pinBoot } from "./pinned-boot.ts";
import { type PinnedLaunch } from "../../snapshot/launch.ts";
import { waitGuestReady } from "./guest-ready.ts";
import { BOOT_PHASE_LABELS, watchBootPhase } from "./boot-phase.ts";
import { hostForwardsOf } from "./host-ports.ts";
import { checkHostResources } from "./host-resources.ts";
import { ForwardFailureWatch } from "./port-refusal.ts";
import { pickUnclaimedPort, readPortClaims } from "../lifecycle/port-claims.ts";

export interface BootHooks {
  onProgress: (step: string) => void;
  onQemuStderr: (line: string) => void;
  /**
   * QEMU answers on QMP: from here the caller mostly waits on it, and may load what it needs later.
   * It gets the VM so a signal during bring-up can kill it (which fails the boot or restore).
   */
  onQemuUp?: (vm: RunningVm) => void;
  /** Something went wrong that does not stop the VM from coming up. */
  onWarning?: (message: string) => void;
  home?: string;
}

export interface BootedVm {
  vm: RunningVm;
  accelReason: string;
  /** From spawning QEMU to the guest agent answering. */
  readyMs: number;
  /** What the VM runs with: a save or snapshot records it so a restore starts the same QEMU. */
  launch: PinnedLaunch;
}

/**
 * Cold boot: choose the accelerator, pin the config and launch spec, check the host can supply what
 * the launch needs (checkHostResources: refused before QEMU starts), start QEMU with fresh RAM, wait
 * for the guest agent. On any failure QEMU is killed; nothing is left running.
 */
export async function coldBoot(
  name: InstanceName,
  paths: InstancePaths,
  file: CompleteConfigFile,
  config: InstanceConfig,
  hooks: BootHooks,
): Promise<BootedVm> {
  const accel = await driver.host.chooseAccel(config.accel);
  const spec = launchSpecFromConfig(name, config, paths, accel.accel, await guestAccessForBoot(name, config, paths, hooks.home), hooks.home);
  await writeBootCidata(spec, config, paths);
  // A cold boot starts from zeroed RAM: an old RAM file would only cost disk space.
  await rm(paths.memory, { force: true });
  await checkHostResources({ spec, shareMemory: true, purpose: "boot", ...(hooks.home === undefined ? {} : { home: hooks.home }) });
  hooks.onProgress(`booting (${accel.accel})`);
  const started = performance.now();
  const watch = new ForwardFailureWatch(hooks.onQemuStderr);
  const vm = await driver.launcher.start(spec, { onStderrLine: watch.onLine }).catch(async (error: unknown) => {
    throw (await watch.refusal(name, hostForwardsOf(spec), "boot")) ?? error; // a port taken since the check
  });
  hooks.onQemuUp?.(vm);
  try {
    const launch: PinnedLaunch = { spec, argv: [...vm.argv], qemuVersion: vm.version, accelReason: accel.reason, bootedAt: new Date().toISOString() };
    await pinBoot(paths, file, launch);
    // A cloud image takes a minute or more under TCG: say where it is, from its console.
    const stopWatching = watchBootPhase(paths.consoleLog, (phase) => {
      hooks.onProgress(`waiting for the guest: ${BOOT_PHASE_LABELS[phase]}`);
    });
    try {
      await waitGuestReady(vm, config.timeouts.bootMs);
    } finally {
      stopWatching();
    }
    return { vm, accelReason: accel.reason, readyMs: performance.now() - started, launch };
  } catch (error) {
    vm.kill();
    await vm.exited;
    throw await withConsoleTail(error, paths, name);
  }
}

/**
 * How this boot reaches the guest. A qcow2 (cloud) image is reached over SSH: as the configured
 * user, with the instance's key, through a loopback port that is free now and that no other instance
 * claims (a suspended one needs its pinned port back). The port is pinned with the spec, so a
 * restore listens on the same one.
 */
async function guestAccessForBoot(name: InstanceName, config: InstanceConfig, paths: InstancePaths, home?: string): Promise<GuestAccess> {
  if (config.image.kind !== "qcow2") return { kind: "agent" };
  const port = await pickUnclaimedPort("tcp", "127.0.0.1", await readPortClaims(home, name));
  return { kind: "ssh", port, user: config.ssh.user, keyPath: paths.sshKey };
}

/**
 * Writes the NoCloud ISO the spec names, fresh for each cold boot and only then: a restore must see
 * the data the VM booted with. The instance id is stable (cloud-init's first-boot modules run once,
 * not at every cold boot) and changes when ssh.user, the key, cloudInit.userData or the MAC do, so
 * an edit still applies at the next cold boot (cloudinit/instance-id.ts).
 * The key is made at create; made here if the instance was switched to a qcow2 image later.
 */
async function writeBootCidata(spec: LaunchSpec, config: InstanceConfig, paths: InstancePaths): Promise<void> {
  if (spec.cidataIso === undefined) return;
  const publicKey = await ensureSshKey(paths.sshKey, sshKeyComment(spec.name));
  await mkdir(paths.bootDir, { recursive: true, mode: 0o700 });
  await writeCidata(spec.cidataIso, {
    instanceId: instanceIdFor({
      name: spec.name,
      user: config.ssh.user,
      publicKey,
      ...(config.cloudInit.userData === undefined ? {} : { userData: config.cloudInit.userData }),
      mac: spec.mac,
    }),
    hostname: spec.name,
    user: config.ssh.user,
    publicKey,
    ...(config.cloudInit.userData === undefined ? {} : { userData: config.cloudInit.userData }),
    mac: spec.mac,
  });
}

/** Adds the guest console's last lines to a boot failure: usually the reason is there. */
async function withConsoleTail(error: unknown, paths: InstancePaths, name: string): Promise<unknown> {
  if (!isSnapvmError(error)) return error;
  const tail = await tailFile(paths.consoleLog, 15);
  if (tail === "") return error;
  return new SnapvmError(
    error.code === ErrorCode.GuestTimeout ? ErrorCode.BootTimeout : error.code,
    `${error.message}\n--- last lines of the guest console ---\n${tail}`,
    {
      hint: error.hint ?? `See the whole console with \`snapvm logs ${name}\`.`,
      cause: error,
      details: error.details,
    },
  );
}
