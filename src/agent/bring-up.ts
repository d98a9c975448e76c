import { existsSync } from "node:fs";
import { diffConfigs, readConfigFile, resolveConfig, withDefaults, type InstanceConfig } from "../config/index.ts";
import { coldBoot, type BootHooks, type BootedVm } from "../instance/cold-boot.ts";
import { readPinnedConfig } from "../instance/pinned-boot.ts";
import { checkRestorable, moveStateAside, restoreSuspended } from "../instance/restore.ts";
import type { InstancePaths } from "../paths/index.ts";
import type { EventLog } from "./events.ts";

export interface BringUpResult extends BootedVm {
  kind: "cold" | "restore";
  config: InstanceConfig;
  /** Set when a saved state existed but could not be restored. */
  restoreFailure?: string;
  /** Fields of snapvm.yaml edited since the restored VM booted; `restart` applies them. */
  pendingChanges?: string[];
}

/** Settings that take effect without a reboot, so an edit to them is not "pending". */
const LIVE_FIELDS = new Set(["saveOnStop", "timeouts", "snapshot"]);

/**
 * Restore when a saved state is present, else cold boot. A restore that fails for any reason
 * moves the state aside (never deleting it), says why, and cold boots: a start never hangs.
 */
export async function bringUp(name: string, paths: InstancePaths, events: EventLog, hooks: BootHooks & { onNotice: (message: string) => void }): Promise<BringUpResult> {
  const file = withDefaults(await readConfigFile(paths.config));
  const current = resolveConfig(file, { baseDir: paths.dir, sourceName: paths.config });
  if (existsSync(paths.suspendDir)) {
    try {
      const manifest = await checkRestorable(paths);
      const pinned = resolveConfig(await readPinnedConfig(paths), { baseDir: paths.dir });
      const pendingChanges = diffConfigs(pinned, current).filter((field) => !LIVE_FIELDS.has(field.split(".")[0] ?? field));
      const config: InstanceConfig = { ...pinned, saveOnStop: current.saveOnStop, timeouts: current.timeouts };
      const booted = await restoreSuspended(manifest, paths, config.timeouts.restoreMs, hooks);
      events.write("restored", { readyMs: booted.readyMs, pendingChanges });
      return { ...booted, kind: "restore", config, ...(pendingChanges.length > 0 ? { pendingChanges } : {}) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const aside = await moveStateAside(paths, reason);
      events.write("restore-failed", { reason, movedTo: aside ?? null });
      hooks.onNotice(`restore failed, cold booting instead: ${reason}${aside === undefined ? "" : ` (state kept in ${aside})`}`);
      const booted = await coldBoot(name, paths, file, current, hooks);
      return { ...booted, kind: "cold", config: current, restoreFailure: reason };
    }
  }
  const booted = await coldBoot(name, paths, file, current, hooks);
  return { ...booted, kind: "cold", config: current };
}
