import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { snapshotPaths, trySnapshotTag, type InstancePaths } from "../../paths/index.ts";
import { readManifest } from "../../snapshot/read-manifest.ts";

/** The disk layer ids that this instance's snapshots hold (they must never be written or removed). */
export async function snapshotLayers(paths: InstancePaths): Promise<Set<string>> {
  const layers = new Set<string>();
  if (!existsSync(paths.snapshotsDir)) return layers;
  for (const entry of await readdir(paths.snapshotsDir)) {
    const parsed = trySnapshotTag(entry); // hidden temp directories and stray entries are not snapshots
    if (!("tag" in parsed)) continue;
    const manifest = await readManifest(snapshotPaths(paths, parsed.tag).dir).catch(() => undefined);
    if (manifest?.snapshot !== undefined) layers.add(manifest.snapshot.diskLayer);
  }
  return layers;
}
