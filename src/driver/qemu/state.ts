import type { StateLayout, StateTransfer } from "../driver.ts";
import { convertStream } from "./convert-stream.ts";
import { migrateIn, migrateOut, prepareMigrationOut, type MigrationCapability } from "./migrate.ts";
import { checkStreamFits } from "./stream-fit.ts";
import { asQemuVm } from "./vm.ts";

/**
 * device-state: the RAM file is the memory, x-ignore-shared writes ~300 KiB of device state.
 * full-ram: mapped-ram + multifd into a sparse file (zero pages stay holes), DESIGN.md §3.
 */
function capabilitiesFor(layout: StateLayout): MigrationCapability[] {
  return layout === "device-state" ? ["x-ignore-shared"] : ["mapped-ram", "multifd"];
}

/** Saves and loads go through QEMU's migration to a `file:` URI; QEMU does not fsync it, the caller does. */
export const qemuState: StateTransfer = {
  // A fork runs on its template's RAM file mapped private: that file is not its memory, so it saves in full.
  layoutOf: (launch) => (launch.spec.memoryBacking === "file" && launch.argvOptions?.shareMemory !== false ? "device-state" : "full-ram"),
  prepareSave: (vm, layout) => prepareMigrationOut(asQemuVm(vm).qmp, capabilitiesFor(layout)),
  save: (vm, file, layout, timeoutMs) => migrateOut(asQemuVm(vm).qmp, `file:${file}`, { capabilities: capabilitiesFor(layout), prepared: true, timeoutMs }),
  saveDeviceState: (vm, file, timeoutMs) => migrateOut(asQemuVm(vm).qmp, `file:${file}`, { capabilities: capabilitiesFor("device-state"), timeoutMs }),
  load: (vm, file, layout, timeoutMs) => migrateIn(asQemuVm(vm).qmp, `file:${file}`, { capabilities: capabilitiesFor(layout), timeoutMs }),
  checkStream: checkStreamFits,
  convertStream,
};
