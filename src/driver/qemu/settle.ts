import { setTimeout as sleep } from "node:timers/promises";
import type { QmpClient } from "./qmp/index.ts";
import type { MigrationStatus } from "./qmp/qapi-migration.ts";
import type { RunState } from "./qmp/qapi-machine.ts";

const CANCEL_TIMEOUT_MS = 10_000;
/** Migration states in which a migration is still under way and must be cancelled before `cont`. */
const MIGRATING: readonly MigrationStatus[] = ["setup", "active", "pre-switchover", "device", "cancelling", "wait-unplug"];
/** Run states a guest paused mid-operation is in: `cont` brings it back. Others mean a broken QEMU. */
const RESUMABLE: readonly RunState[] = ["paused", "postmigrate", "finish-migrate", "save-vm", "prelaunch"];

/**
 * A QEMU whose agent died mid-operation (a live snapshot's pre-copy, a save): cancel the migration it
 * left under way, then `cont` a guest left paused. Throws when the guest is in a state `cont` cannot
 * leave (internal-error, shutdown, …): that QEMU is broken.
 */
export async function settleQemu(qmp: QmpClient): Promise<string[]> {
  const done: string[] = [];
  const migration = await qmp.execute("query-migrate");
  if (migration.status !== undefined && MIGRATING.includes(migration.status)) {
    await qmp.execute("migrate_cancel");
    const deadline = Date.now() + CANCEL_TIMEOUT_MS;
    for (;;) {
      const now = (await qmp.execute("query-migrate")).status;
      if (now === undefined || !MIGRATING.includes(now)) break;
      if (Date.now() > deadline) throw new Error(`its migration (${now}) did not end within ${CANCEL_TIMEOUT_MS} ms of migrate_cancel`);
      await sleep(20);
    }
    done.push(`cancelled the migration its agent left ${migration.status}`);
  }
  const status = await qmp.execute("query-status");
  if (!status.running) {
    if (!RESUMABLE.includes(status.status)) throw new Error(`its guest is ${status.status}`);
    await qmp.execute("cont");
    done.push(`resumed the guest, left ${status.status} by its agent`);
  }
  return done;
}
