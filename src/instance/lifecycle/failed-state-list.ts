import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance, listInstanceNames } from "../../store/inspect.ts";
import { listFailedStates, pruneFailedStates, type FailedState } from "../suspend/failed-states.ts";

export interface KeptState extends FailedState {
  instance: string;
}

/** One instance (it must exist), or every instance of the home. */
async function namesFor(name: InstanceName | undefined, home?: string): Promise<InstanceName[]> {
  if (name === undefined) return listInstanceNames(home);
  await inspectInstance(name, home); // E_INSTANCE_NOT_FOUND
  return [name];
}

/** `snapvm state list [NAME]`: the states kept aside after failed restores, oldest first per instance. */
export async function listKeptStates(name?: InstanceName, home?: string): Promise<{ states: KeptState[] }> {
  const lists = await Promise.all(
    (await namesFor(name, home)).map(async (instance) => (await listFailedStates(instancePaths(instance, home))).map((s) => ({ instance, ...s }))),
  );
  return { states: lists.flat() };
}

export interface PruneResult {
  removed: KeptState[];
  freedBytes: number;
}

/** `snapvm state prune [NAME] [--older-than DUR]`: removes kept-aside states moved aside at least `olderThanMs` ago (0: all). */
export async function pruneKeptStates(name: InstanceName | undefined, olderThanMs: number, home?: string): Promise<PruneResult> {
  const removed: KeptState[] = [];
  for (const instance of await namesFor(name, home)) {
    for (const state of await pruneFailedStates(instancePaths(instance, home), { olderThanMs })) removed.push({ instance, ...state });
  }
  return { removed, freedBytes: removed.reduce((sum, s) => sum + s.allocatedBytes, 0) };
}
