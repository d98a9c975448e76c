import { inspectEntry, listInstanceEntries, type InstanceSummary } from "../../store/inspect.ts";

/** Every entry of instances/; one that cannot be read shows as `broken` with its reason, never fails the list. */
export async function listInstances(home?: string): Promise<InstanceSummary[]> {
  const entries = await listInstanceEntries(home);
  return Promise.all(entries.map((entry) => inspectEntry(entry, home)));
}
