import type { HostFacts } from "../driver.ts";
import { supportsReflink } from "../../util/reflink-probe.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { runCommand } from "../../util/run-command.ts";
import { chooseAccel, probeHost } from "./accel.ts";
import { QEMU_BINARY } from "./argv.ts";

/** The host as QEMU sees it: KVM usable or not (kvm-pvm is not, DESIGN.md §2), reflink per directory. */
export const qemuHost: HostFacts = {
  chooseAccel: async (setting) => (setting === "tcg" ? chooseAccel(setting, NO_PROBE) : chooseAccel(setting, await probeHost())),
  reflink: supportsReflink,
  vmmVersion: installedQemuVersion,
};

let cachedVersion: Promise<string> | undefined;

/** "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2…)" → "10.0.2", the form QMP's query-version gives. */
async function installedQemuVersion(): Promise<string> {
  cachedVersion ??= runCommand(QEMU_BINARY, ["--version"]).then((result) => {
    const match = /version (\d+\.\d+\.\d+)/.exec(result.stdout);
    if (match?.[1] === undefined)
      throw new SnapvmError(ErrorCode.QemuFailed, `cannot read the version ${QEMU_BINARY} --version prints: ${result.stdout.slice(0, 200)}`);
    return match[1];
  });
  return cachedVersion;
}

/** `tcg` needs no probe: the choice does not depend on the host. */
const NO_PROBE = { kvmDeviceUsable: false, kvmPvmLoaded: false, cpuHasVirtualization: false };
