import type { HostFacts } from "../driver.ts";
import { supportsReflink } from "../../util/reflink-probe.ts";
import { chooseAccel, probeHost } from "./accel.ts";

/** The host as QEMU sees it: KVM usable or not (kvm-pvm is not, DESIGN.md §2), reflink per directory. */
export const qemuHost: HostFacts = {
  chooseAccel: async (setting) => (setting === "tcg" ? chooseAccel(setting, NO_PROBE) : chooseAccel(setting, await probeHost())),
  reflink: supportsReflink,
};

/** `tcg` needs no probe: the choice does not depend on the host. */
const NO_PROBE = { kvmDeviceUsable: false, kvmPvmLoaded: false, cpuHasVirtualization: false };
