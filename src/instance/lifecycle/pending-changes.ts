import { stat } from "node:fs/promises";
import type { InstancePaths } from "../../paths/index.ts";
import { readPinnedConfig } from "../boot/pinned-boot.ts";

/** Settings that take effect without a reboot, so an edit to them is never "pending". */
const LIVE_FIELDS = new Set(["saveOnStop", "timeouts", "snapshot"]);

/** mtimes in ms, undefined for a missing file. */
async function modifiedMs(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.mtimeMs;
}

/**
 * Fields of snapvm.yaml edited since the VM (or its saved state) booted: a resume ignores them and
 * `snapvm restart` applies them. Empty when nothing is pinned or the edit cannot be read.
 */
export async function pendingChanges(paths: InstancePaths): Promise<string[]> {
  const [edited, pinned] = await Promise.all([modifiedMs(paths.config), modifiedMs(paths.bootConfig)]);
  if (pinned === undefined) return [];
  // Not written since the boot pinned its config (which read it first): nothing can differ, and the
  // YAML and schema libraries (~0.1 s of CPU beside a restoring VM) stay unloaded.
  if (edited !== undefined && edited <= pinned) return [];
  const { diffConfigs, readConfigFile, resolveConfig } = await import("../../config/index.ts");
  const booted = resolveConfig(await readPinnedConfig(paths), { baseDir: paths.dir });
  const current = resolveConfig(await readConfigFile(paths.config), { baseDir: paths.dir, sourceName: paths.config });
  return diffConfigs(booted, current).filter((field) => !LIVE_FIELDS.has(field.split(".")[0] ?? field));
}
