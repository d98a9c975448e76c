import { inspectInstance, listInstanceNames, type InstanceSummary } from "../../store/inspect.ts";

export async function listInstances(home?: string): Promise<InstanceSummary[]> {
  const names = await listInstanceNames(home);
  return Promise.all(names.map((name) => inspectInstance(name, home)));
}
