import { existsSync } from "node:fs";
import type { BootHooks, BootedVm } from "../instance/boot/cold-boot.ts";
import { readPinnedConfig } from "../instance/boot/pinned-boot.ts";
import { checkRestorable, moveStateAside, restoreSuspended, verifyDigests } from "../instance/suspend/restore-state.ts";
import { settingsFromConfig, settingsFromPinned, type RuntimeSettings } from "../instance/boot/settings.ts";
import { readManifest } from "../snapshot/read-manifest.ts";
import type { InstanceName, InstancePaths } from "../paths/index.ts";
import type { EventLog } from "./events.ts";

export interface BringUpResult extends BootedVm {
  kind: "cold" | "restore";
  settings: RuntimeSettings;
  /** Set when a saved state existed but could not be restored. */
  restoreFailure?: string;
}

/**
 * Restore when a saved state is present, else cold boot. A restore that fails for any reason
 * moves the state aside (never deleting it), says why, and cold boots: a start never hangs.
 * The restore path loads nothing it does not need before the guest answers (see settings.ts).
 */
export async function bringUp(name: InstanceName, paths: InstancePaths, events: EventLog, hooks: BootHooks & { onNotice: (message: string) => void }): Promise<BringUpResult> {
  let restoreFailure: string | undefined;
  if (existsSync(paths.suspendDir)) {
    try {
      const manifest = await readManifest(paths.suspendDir);
      await checkRestorable(paths, manifest);
      const settings = readPinnedConfig(paths).then(settingsFromPinned);
      const checked = Promise.all([settings, verifyDigests(paths, manifest)]).then(([pinned]) => ({ timeoutMs: pinned.restoreMs }));
      const booted = await restoreSuspended(manifest, paths, checked, hooks);
      events.write("restored", { readyMs: booted.readyMs });
      return { ...booted, kind: "restore", settings: await settings };
    } catch (error) {
      restoreFailure = error instanceof Error ? error.message : String(error);
      const aside = await moveStateAside(paths, restoreFailure);
      events.write("restore-failed", { reason: restoreFailure, movedTo: aside ?? null });
      hooks.onNotice(`restore failed, cold booting instead: ${restoreFailure}${aside === undefined ? "" : ` (state kept in ${aside})`}`);
    }
  }
  const [{ readConfigFile, resolveConfig, withDefaults }, { coldBoot }] = await Promise.all([import("../config/index.ts"), import("../instance/boot/cold-boot.ts")]);
  const file = withDefaults(await readConfigFile(paths.config));
  const config = resolveConfig(file, { baseDir: paths.dir, sourceName: paths.config });
  const booted = await coldBoot(name, paths, file, config, hooks);
  return { ...booted, kind: "cold", settings: settingsFromConfig(config), ...(restoreFailure === undefined ? {} : { restoreFailure }) };
}

/** After a restore: the settings in snapvm.yaml now (saveOnStop may have been edited while suspended). */
export async function currentSettings(paths: InstancePaths): Promise<RuntimeSettings> {
  const { loadConfigFile } = await import("../config/index.ts");
  return settingsFromConfig(await loadConfigFile(paths.config));
}
