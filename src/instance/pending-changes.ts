import { existsSync } from "node:fs";
import { diffConfigs, readConfigFile, resolveConfig } from "../config/index.ts";
import type { InstancePaths } from "../paths/index.ts";
import { readPinnedConfig } from "./pinned-boot.ts";

/** Settings that take effect without a reboot, so an edit to them is never "pending". */
const LIVE_FIELDS = new Set(["saveOnStop", "timeouts", "snapshot"]);

/**
 * Fields of snapvm.yaml edited since the VM (or its saved state) booted: a resume ignores them and
 * `snapvm restart` applies them. Empty when nothing is pinned or the edit cannot be read.
 */
export async function pendingChanges(paths: InstancePaths): Promise<string[]> {
  if (!existsSync(paths.bootConfig)) return [];
  const pinned = resolveConfig(await readPinnedConfig(paths), { baseDir: paths.dir });
  const current = resolveConfig(await readConfigFile(paths.config), { baseDir: paths.dir, sourceName: paths.config });
  return diffConfigs(pinned, current).filter((field) => !LIVE_FIELDS.has(field.split(".")[0] ?? field));
}
