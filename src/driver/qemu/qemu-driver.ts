import type { Driver } from "../driver.ts";
import { buildQemuArgv } from "./argv.ts";
import { qemuHost } from "./host.ts";
import { qemuHostMigration } from "./host-migration.ts";
import { qemuLiveSnapshots } from "./live-snapshots.ts";
import { parseSnapvmArgv } from "./parse-argv.ts";
import { findHelperQemus, findInstanceQemus } from "./processes.ts";
import { qemuDisks } from "./qemu-img.ts";
import { qemuState } from "./state.ts";
import { QemuVm } from "./vm.ts";

/** QEMU 10 (DESIGN.md §2): every capability snapvm has today, post-copy aside. */
export const qemuDriver: Driver = {
  name: "qemu",
  capabilities: { lazyRestore: true, liveSnapshot: true, copyOnWriteForks: true, streamImport: true, postcopy: true, stateOffload: true },
  host: qemuHost,
  launcher: {
    start: (spec, options) => QemuVm.start(spec, options),
    argv: (spec, options) => buildQemuArgv(spec, options),
    parseArgv: parseSnapvmArgv,
    processesServing: findInstanceQemus,
    helperProcesses: findHelperQemus,
    adopt: (spec, process, options) =>
      QemuVm.adopt(spec, process.argv, process.pid, options?.controlTimeoutMs === undefined ? {} : { qmpTimeoutMs: options.controlTimeoutMs }),
  },
  state: qemuState,
  snapshots: qemuLiveSnapshots,
  disks: qemuDisks,
  migration: qemuHostMigration,
};
