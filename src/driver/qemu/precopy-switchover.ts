import { setCapabilities, UNLIMITED_BANDWIDTH, waitForMigration, waitForMigrationStatus } from "./migrate.ts";
import type { QemuVm } from "./vm.ts";
import { faultPoint } from "../../util/fault-point.ts";

/** The longest the guest may stay stopped for the last dirty pages; QEMU iterates until it fits. */
const DOWNTIME_LIMIT_MS = 10;

/**
 * A pre-copy migration of the running guest to `uri` with one instant in it where disk and memory
 * match: the guest runs while RAM is copied and stops only for the last dirty pages (downtime-limit),
 * pause-before-switchover holds it stopped while `atSwitchover` runs (the disk leg), then the rest of
 * the state goes out and the guest resumes. x-ignore-shared stays off: all of RAM is sent.
 * Returns the guest's pause in ms, from QEMU's STOP event to our `cont`.
 * On failure the migration is cancelled and the guest left running.
 */
export async function precopySwitchover(vm: QemuVm, uri: string, atSwitchover: () => Promise<void>, timeoutMs: number): Promise<number> {
  try {
    await setCapabilities(vm.qmp, ["pause-before-switchover"]);
    await vm.qmp.execute("migrate-set-parameters", { "max-bandwidth": UNLIMITED_BANDWIDTH, "downtime-limit": DOWNTIME_LIMIT_MS });
    const stop = vm.qmp.waitForEvent("STOP", { timeoutMs });
    stop.catch(() => undefined);
    await vm.qmp.execute("migrate", { uri });
    faultPoint("precopy:copying");
    await waitForMigrationStatus(vm.qmp, "pre-switchover", "copying memory", timeoutMs);
    const stoppedAt = (await stop).timestamp;
    await atSwitchover();
    await vm.qmp.execute("migrate-continue", { state: "pre-switchover" });
    await waitForMigration(vm.qmp, "finishing the memory copy", timeoutMs);
    await vm.qmp.execute("cont");
    return Date.now() - (stoppedAt.seconds * 1000 + stoppedAt.microseconds / 1000);
  } catch (error) {
    await vm.qmp.execute("migrate_cancel").catch(() => undefined);
    const status = await vm.qmp.execute("query-status").catch(() => undefined);
    if (status !== undefined && !status.running) await vm.qmp.execute("cont").catch(() => undefined);
    throw error;
  }
}
