import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { instancePaths, instancesDir, tryInstanceName } from "../../paths/index.ts";
import { sha256File } from "../../util/file-facts.ts";
import type { OfferFile } from "../migrate/protocol.ts";

/**
 * A disk layer this host already holds: a file of the same name (layer names are random ids) in some
 * instance's disks/ with the same digest, e.g. from an earlier lazy fork of the same snapshot. A lower
 * layer is frozen, so a local copy of it stands for the remote one.
 */
export async function layerHere(file: OfferFile, home: string): Promise<string | undefined> {
  if (file.role !== "disk-layer") return undefined;
  const dir = instancesDir(home);
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir)) {
    const parsed = tryInstanceName(entry);
    if (!("name" in parsed)) continue;
    const candidate = join(instancePaths(parsed.name, home).disksDir, file.name);
    if (existsSync(candidate) && (await sha256File(candidate).catch(() => undefined)) === file.sha256) return candidate;
  }
  return undefined;
}
