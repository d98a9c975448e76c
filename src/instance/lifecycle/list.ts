import { instancesDir } from "../../paths/index.ts";
import { inspectEntry, listInstanceEntries, type InstanceSummary } from "../../store/inspect.ts";
import { removeStaleInstanceTemps } from "./crash-hygiene.ts";

/**
 * Every entry of instances/; one that cannot be read shows as `broken` with its reason, never fails the
 * list. Hidden temp directories a killed create, fork, import or delete left are removed first (only
 * those whose writer is dead; a failure to remove one is not the list's to report).
 */
export async function listInstances(home?: string): Promise<InstanceSummary[]> {
  await removeStaleInstanceTemps(instancesDir(home)).catch(() => undefined);
  const entries = await listInstanceEntries(home);
  return Promise.all(entries.map((entry) => inspectEntry(entry, home)));
}
