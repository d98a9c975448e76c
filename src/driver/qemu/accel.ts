import { access, constants, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { AccelChoice, AccelSetting } from "../driver.ts";

export interface HostProbe {
  kvmDeviceUsable: boolean;
  kvmPvmLoaded: boolean;
  cpuHasVirtualization: boolean;
}

export async function probeHost(): Promise<HostProbe> {
  const kvmDeviceUsable = await access("/dev/kvm", constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  // kvm-pvm accepts KVM_CREATE_VM but cannot run a stock guest kernel (DESIGN.md §2).
  const kvmPvmLoaded = existsSync("/sys/module/kvm_pvm");
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  const cpuHasVirtualization = /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
  return { kvmDeviceUsable, kvmPvmLoaded, cpuHasVirtualization };
}

/** Pure decision, so every branch is unit-tested without the host it describes. */
export function chooseAccel(setting: AccelSetting, host: HostProbe): AccelChoice {
  if (setting === "tcg") return { accel: "tcg", reason: "accel: tcg in the config" };
  const problem = !host.kvmDeviceUsable
    ? "/dev/kvm is missing or not accessible"
    : host.kvmPvmLoaded
      ? "/dev/kvm is kvm-pvm, which cannot run a stock guest"
      : !host.cpuHasVirtualization
        ? "the CPU exposes no vmx/svm"
        : undefined;
  if (problem === undefined) return { accel: "kvm", reason: setting === "kvm" ? "accel: kvm in the config" : "KVM is usable" };
  if (setting === "kvm") {
    throw new SnapvmError(ErrorCode.InvalidConfig, `accel: kvm was requested but ${problem}`, {
      hint: "Set accel: auto (or tcg) in snapvm.yaml to run under software emulation.",
    });
  }
  return { accel: "tcg", reason: `TCG because ${problem}` };
}
