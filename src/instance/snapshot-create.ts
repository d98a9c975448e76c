import { instancePaths } from "../paths/index.ts";
import { acquireLock } from "../store/lock.ts";
import { inspectInstance } from "../store/inspect.ts";
import { agentClient } from "./agent-client.ts";
import { takeOfflineSnapshot } from "./snapshot-offline.ts";
import type { SnapshotFigures } from "./snapshot-live.ts";

/**
 * `snapvm snapshot create NAME TAG`: a running instance is snapshotted live by its agent (which owns
 * QEMU); otherwise here, under the instance lock so no start races it.
 */
export async function createSnapshot(name: string, tag: string, home?: string): Promise<SnapshotFigures & { instance: string }> {
  const current = await inspectInstance(name, home);
  if (current.agentPid !== undefined) return { instance: name, ...(await agentClient(name, home).snapshot({ tag })) };
  const paths = instancePaths(name, home);
  const lock = await acquireLock(paths.agentLock, name);
  try {
    return { instance: name, ...(await takeOfflineSnapshot(name, paths, tag)) };
  } finally {
    await lock.release();
  }
}
