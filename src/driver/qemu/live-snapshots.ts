import type { LiveSnapshots } from "../driver.ts";
import { activeDisk, switchToOverlay } from "./block.ts";
import { precopyCapture } from "./precopy-capture.ts";
import { precopySwitchover } from "./precopy-switchover.ts";
import { asQemuVm } from "./vm.ts";

/** Disk: blockdev-snapshot-sync onto an existing overlay. Memory: pre-copy into a frozen receiver QEMU, or out to a socket. */
export const qemuLiveSnapshots: LiveSnapshots = {
  activeDisk: (vm) => activeDisk(asQemuVm(vm).qmp),
  switchDisk: (vm, current, overlay, nodeName) => switchToOverlay(asQemuVm(vm).qmp, current, overlay, nodeName),
  captureMemory: (vm, launch, target, diskLeg, timeoutMs) => precopyCapture(asQemuVm(vm), launch, target, diskLeg, timeoutMs),
  streamState: (vm, socketPath, diskLeg, timeoutMs) => precopySwitchover(asQemuVm(vm), `unix:${socketPath}`, diskLeg, timeoutMs),
};
