import type { LaunchSpec } from "../../src/config/launch-spec.ts";
import { migrateIn, migrateOut, type MigrationCapability } from "../../src/driver/qemu/migrate.ts";
import { QemuVm } from "../../src/driver/qemu/vm.ts";
import { fsyncFile } from "../../src/util/fsync.ts";
import type { BenchHome } from "../home.ts";
import { waitChildrenGone } from "../host.ts";
import { probe, type QemuGuest } from "../guest/running.ts";

/** Generous: gzip of 4 GiB of random data under TCG on 2 busy cores takes minutes. */
export const MIGRATION_TIMEOUT_MS = 60 * 60 * 1000;

export interface Migration {
  uri: string;
  /** Every capability not listed is switched off (they persist in a QEMU process, DESIGN.md §2). */
  capabilities: MigrationCapability[];
  /** multifd-channels, for multifd methods. */
  channels?: number;
}

/** Starts a QEMU the benchmark owns; cleanup kills it even if the benchmark is interrupted. */
export async function startQemu(home: BenchHome, spec: LaunchSpec, incoming: boolean, shareMemory = true): Promise<QemuGuest> {
  const vm = await QemuVm.start(spec, { incoming, shareMemory });
  home.track(vm.pid);
  void vm.exited.then(() => {
    home.untrack(vm.pid);
  });
  return { kind: "qemu", vm };
}

export interface RawRestore {
  guest: QemuGuest;
  answerMs: number;
  steps: { spawnMs: number; loadMs: number; contToPingMs: number; pingToAnswerMs: number };
}

/**
 * The raw mechanism: QEMU with `-incoming defer`, migrate-incoming, `cont` (a state saved after `stop`
 * comes back paused), the guest agent's first pong (its read loop runs), then the first command's answer.
 * `shareMemory: false` maps a file-backed RAM copy-on-write (a clone: the file is never written).
 */
export async function restoreRaw(home: BenchHome, spec: LaunchSpec, migration: Migration, shareMemory = true): Promise<RawRestore> {
  const t0 = performance.now();
  const guest = await startQemu(home, spec, true, shareMemory);
  const t1 = performance.now();
  try {
    if (migration.channels !== undefined) await guest.vm.qmp.execute("migrate-set-parameters", { "multifd-channels": migration.channels });
    await migrateIn(guest.vm.qmp, migration.uri, { capabilities: migration.capabilities, timeoutMs: MIGRATION_TIMEOUT_MS });
    const t2 = performance.now();
    await guest.vm.qmp.execute("cont");
    await (await guest.vm.guest()).waitReady(60_000);
    const t3 = performance.now();
    await probe(guest);
    const t4 = performance.now();
    return { guest, answerMs: t4 - t0, steps: { spawnMs: t1 - t0, loadMs: t2 - t1, contToPingMs: t3 - t2, pingToAnswerMs: t4 - t3 } };
  } catch (error) {
    guest.vm.kill();
    throw error;
  }
}

export interface RawSave {
  pauseMs: number;
  totalMs: number;
  steps: { preSyncMs: number; migrateMs: number; syncMs: number; quitMs: number };
}

export interface SaveOptions {
  /** fsynced while the guest still runs, so little is left to flush while it is paused. */
  syncBefore?: string[];
  /** fsynced while paused: the state is durable once these are. */
  syncAfter: string[];
  /** fsynced after the pause (the directory entry), as snapvm fsyncs its instance directory after its rename. */
  syncDirs?: string[];
}

/**
 * Saves a running guest the way each raw method does: `stop`, migrate, wait for any compressor QEMU
 * spawned to exit, fsync; the pause ends when the state is durable. QEMU is then quit (the VM must
 * not run on after its state was saved).
 */
export async function saveRaw(guest: QemuGuest, migration: Migration, options: SaveOptions): Promise<RawSave> {
  const { vm } = guest;
  const t0 = performance.now();
  for (const path of options.syncBefore ?? []) await fsyncFile(path);
  const paused = performance.now();
  await vm.qmp.execute("stop");
  if (migration.channels !== undefined) await vm.qmp.execute("migrate-set-parameters", { "multifd-channels": migration.channels });
  await migrateOut(vm.qmp, migration.uri, { capabilities: migration.capabilities, timeoutMs: MIGRATION_TIMEOUT_MS });
  await waitChildrenGone(vm.pid, MIGRATION_TIMEOUT_MS);
  const migrated = performance.now();
  for (const path of options.syncAfter) await fsyncFile(path);
  const durable = performance.now();
  for (const dir of options.syncDirs ?? []) await fsyncFile(dir);
  await vm.quit();
  vm.closeChannels();
  const quit = performance.now();
  return {
    pauseMs: durable - paused,
    totalMs: quit - t0,
    steps: { preSyncMs: paused - t0, migrateMs: migrated - paused, syncMs: durable - migrated, quitMs: quit - durable },
  };
}
