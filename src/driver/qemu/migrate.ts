import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { MigrationStatus, QmpClient } from "./qmp/index.ts";
import { faultPoint } from "../../util/fault-point.ts";

/** Every migration capability snapvm uses. All are set explicitly before each migration because
 * QEMU keeps them for the life of the process (a leftover mapped-ram breaks exec:, DESIGN.md §2). */
export const MIGRATION_CAPABILITIES = [
  "x-ignore-shared",
  "mapped-ram",
  "multifd",
  "background-snapshot",
  "postcopy-ram",
  "pause-before-switchover",
  "late-block-activate",
] as const;
export type MigrationCapability = (typeof MIGRATION_CAPABILITIES)[number];

export async function setCapabilities(qmp: QmpClient, enabled: readonly MigrationCapability[]): Promise<void> {
  await qmp.execute("migrate-set-capabilities", {
    capabilities: MIGRATION_CAPABILITIES.map((capability) => ({ capability, state: enabled.includes(capability) })),
  });
}

/** The default 128 MiB/s cap applies to a stopped VM too; a local save should run at disk speed. */
export const UNLIMITED_BANDWIDTH = 64 * 1024 * 1024 * 1024;

const TERMINAL_FAILURES = new Set(["failed", "cancelled"]);

/**
 * Polls query-migrate until the migration completes. Polling at 1 ms costs little over a unix socket
 * and keeps the guest's pause short for small device-state saves.
 */
export async function waitForMigration(qmp: QmpClient, what: string, timeoutMs: number, intervalMs = 1): Promise<void> {
  await waitForMigrationStatus(qmp, "completed", what, timeoutMs, intervalMs);
}

/** Polls query-migrate until it reports `wanted` (e.g. "pre-switchover"); a failed migration throws. */
export async function waitForMigrationStatus(qmp: QmpClient, wanted: MigrationStatus, what: string, timeoutMs: number, intervalMs = 1): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await qmp.execute("query-migrate");
    faultPoint("migrate:polling");
    if (info.status === wanted) return;
    if (info.status !== undefined && TERMINAL_FAILURES.has(info.status)) {
      throw new SnapvmError(ErrorCode.QemuFailed, `${what} failed: ${info["error-desc"] ?? info.status}`);
    }
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.QmpTimeout, `${what} did not complete within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

export interface MigrateOptions {
  capabilities: readonly MigrationCapability[];
  timeoutMs: number;
  /** prepareMigrationOut already ran with these capabilities (before `stop`, to keep the pause short). */
  prepared?: boolean;
}

/** Capabilities and bandwidth for a save; allowed while the guest runs, so a caller may set them before `stop`. */
export async function prepareMigrationOut(qmp: QmpClient, capabilities: readonly MigrationCapability[]): Promise<void> {
  await setCapabilities(qmp, capabilities);
  await qmp.execute("migrate-set-parameters", { "max-bandwidth": UNLIMITED_BANDWIDTH });
}

/** Saves the VM state to `uri` (for example `file:/path`) and waits for it to finish. */
export async function migrateOut(qmp: QmpClient, uri: string, options: MigrateOptions): Promise<void> {
  if (options.prepared !== true) await prepareMigrationOut(qmp, options.capabilities);
  await qmp.execute("migrate", { uri });
  await waitForMigration(qmp, `saving to ${uri}`, options.timeoutMs);
}

/** Loads a state into a QEMU started with `-incoming defer`. The VM stays paused: the caller sends `cont`. */
export async function migrateIn(qmp: QmpClient, uri: string, options: MigrateOptions): Promise<void> {
  await setCapabilities(qmp, options.capabilities);
  await qmp.execute("migrate-incoming", { uri });
  await waitForMigration(qmp, `loading ${uri}`, options.timeoutMs);
}
