import { rm } from "node:fs/promises";
import type { ConfigFile, InstanceConfig } from "../config/index.ts";
import { chooseAccel, probeHost } from "../driver/qemu/accel.ts";
import { QemuVm } from "../driver/qemu/vm.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../errors/index.ts";
import type { InstancePaths } from "../paths/index.ts";
import { tailFile } from "../util/tail-file.ts";
import { launchSpecFromConfig } from "./launch-spec.ts";
import { pinBoot } from "./pinned-boot.ts";
import { waitGuestReady } from "./guest-ready.ts";

export interface BootHooks {
  onProgress: (step: string) => void;
  onQemuStderr: (line: string) => void;
  home?: string;
}

export interface BootedVm {
  vm: QemuVm;
  accelReason: string;
  /** From spawning QEMU to the guest agent answering. */
  readyMs: number;
}

/**
 * Cold boot: choose the accelerator, pin the config and launch spec, start QEMU with fresh RAM,
 * wait for the guest agent. On any failure QEMU is killed; nothing is left running.
 */
export async function coldBoot(name: string, paths: InstancePaths, file: ConfigFile, config: InstanceConfig, hooks: BootHooks): Promise<BootedVm> {
  const accel = chooseAccel(config.accel, await probeHost());
  const spec = launchSpecFromConfig(name, config, paths, accel.accel, hooks.home);
  // A cold boot starts from zeroed RAM: an old RAM file would only cost disk space.
  await rm(paths.memory, { force: true });
  hooks.onProgress(`booting (${accel.accel})`);
  const started = performance.now();
  const vm = await QemuVm.start(spec, { onStderrLine: hooks.onQemuStderr });
  try {
    await pinBoot(paths, file, { spec, argv: [...vm.argv], qemuVersion: vm.qemuVersion, accelReason: accel.reason, bootedAt: new Date().toISOString() });
    hooks.onProgress("waiting for the guest");
    await waitGuestReady(vm, config.timeouts.bootMs);
    return { vm, accelReason: accel.reason, readyMs: performance.now() - started };
  } catch (error) {
    vm.kill();
    await vm.exited;
    throw await withConsoleTail(error, paths, name);
  }
}

/** Adds the guest console's last lines to a boot failure: usually the reason is there. */
async function withConsoleTail(error: unknown, paths: InstancePaths, name: string): Promise<unknown> {
  if (!isSnapvmError(error)) return error;
  const tail = await tailFile(paths.consoleLog, 15);
  if (tail === "") return error;
  return new SnapvmError(error.code === ErrorCode.GuestTimeout ? ErrorCode.BootTimeout : error.code, `${error.message}\n--- last lines of the guest console ---\n${tail}`, {
    hint: error.hint ?? `See the whole console with \`snapvm logs ${name}\`.`,
    cause: error,
    details: error.details,
  });
}
