import { instancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { acquireLock } from "../../store/lock.ts";
import { cleanUpUnderLock } from "../lifecycle/crash-hygiene.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { readoptIfOrphaned } from "../lifecycle/readopt.ts";
import { agentClient } from "../access/agent-client.ts";
import { takeOfflineSnapshot } from "./offline.ts";
import type { SnapshotFigures } from "./live.ts";
import { compressInBackground, type BackgroundCompression } from "./compress.ts";

/**
 * `snapvm snapshot create NAME TAG`: a running instance is snapshotted live by its agent (which owns
 * QEMU); otherwise here, under the instance lock so no start races it.
 */
export async function createSnapshot(
  name: InstanceName,
  tag: SnapshotTag,
  home?: string,
  onProgress?: (step: string) => void,
): Promise<SnapshotFigures & { instance: string; compression?: BackgroundCompression }> {
  const figures = await takeSnapshot(name, tag, home, onProgress);
  // With `snapshot.compression: zstd`, compression starts now, detached: never inside the guest's pause.
  const compression = await compressInBackground(name, tag, home);
  return { instance: name, ...figures, ...(compression === undefined ? {} : { compression }) };
}

async function takeSnapshot(
  name: InstanceName,
  tag: SnapshotTag,
  home: string | undefined,
  onProgress: ((step: string) => void) | undefined,
): Promise<SnapshotFigures> {
  // A dead agent's QEMU is re-adopted first: the snapshot is then a live one of the running guest.
  const { current } = await readoptIfOrphaned(name, home, await inspectInstance(name, home));
  if (current.agentPid !== undefined) {
    // One request: the agent pre-copies memory while the guest runs, then pauses it briefly.
    onProgress?.("live snapshot by the agent (memory pre-copy, then a short pause)");
    return agentClient(name, home).snapshot({ tag });
  }
  onProgress?.("snapshot of the stopped instance");
  const paths = instancePaths(name, home);
  const lock = await acquireLock(paths.agentLock, name);
  try {
    await cleanUpUnderLock(paths, "refuse");
    return await takeOfflineSnapshot(name, paths, tag);
  } finally {
    await lock.release();
  }
}
