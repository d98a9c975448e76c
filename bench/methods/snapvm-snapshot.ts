import { existsSync } from "node:fs";
import type { SnapshotFigures } from "../../src/instance/snapshots/live.ts";
import type { StartResult } from "../../src/instance/lifecycle/start.ts";
import { instancePaths, parseInstanceName, parseSnapshotTag, snapshotPaths } from "../../src/paths/index.ts";
import { scribbleMemory } from "../guest-workload.ts";
import type { AgentGuest, RunningGuest } from "../guest/running.ts";
import { diskUse, filesIn } from "../host.ts";
import { agentGuest, answerThroughAgent, requireAgentGuest, restoreTimeline } from "./snapvm-common.ts";
import type { MethodEnv, RestoreFigures, SaveFigures, SuspendMethod } from "./types.ts";

interface RestoreJson {
  started?: StartResult;
}

/**
 * snapvm's live snapshot as a user runs it: `snapvm snapshot create` on the running guest, which
 * runs on, then `snapvm snapshot restore` (the running VM is killed and comes back from the snapshot)
 * until the guest answers. The pause is the snapshot's own (QEMU's STOP to `cont`): the snapshot's
 * files are fsynced after it, with the guest running again. State on disk is the snapshot's directory
 * (RAM file, device state, manifest); the frozen disk layer is not counted, as no method counts disk.
 * Each run's snapshot is deleted once its guest answers.
 */
export function snapvmSnapshot(env: MethodEnv): SuspendMethod {
  const { home, instance } = env;
  let guest: AgentGuest | undefined;
  let taken = 0;
  let tag: string | undefined;

  const deleteSnapshot = async (): Promise<void> => {
    if (tag === undefined) return;
    if (existsSync(snapshotPaths(instancePaths(parseInstanceName(instance), home.dir), parseSnapshotTag(tag)).dir))
      await home.cliJson(["snapshot", "delete", instance, tag]);
    tag = undefined;
  };

  return {
    kind: "suspend",
    id: "snapvm-snapshot",
    input: "agent",
    current: (): RunningGuest | undefined => guest,
    prepare(running) {
      guest = requireAgentGuest(running, "snapvm-snapshot");
      return Promise.resolve();
    },
    async save(): Promise<SaveFigures> {
      tag = `bench-${++taken}`;
      const { run, ...parsed } = await home.cliJson(["snapshot", "create", instance, tag]);
      const value = parsed.value as SnapshotFigures;
      if (value.pauseMs <= 0) throw new Error(`snapvm snapshot create did not snapshot live: ${run.stdout}`);
      const use = await diskUse(filesIn(snapshotPaths(instancePaths(parseInstanceName(instance), home.dir), parseSnapshotTag(tag)).dir));
      return {
        pauseMs: value.pauseMs,
        totalMs: run.wallMs,
        stateApparentBytes: use.apparentBytes,
        stateAllocatedBytes: use.allocatedBytes,
        extra: { agentSnapshotMs: value.totalMs },
      };
    },
    async restore(): Promise<RestoreFigures> {
      if (guest === undefined || tag === undefined) throw new Error("snapvm-snapshot: nothing to restore");
      // Untimed: the data changes after the snapshot, so the memory check proves the restore went back.
      await scribbleMemory(guest);
      guest = undefined;
      const started = performance.now();
      const { run, ...parsed } = await home.cliJson(["snapshot", "restore", instance, tag]);
      const value = parsed.value as RestoreJson;
      if (value.started === undefined) throw new Error(`snapvm snapshot restore did not start the instance again: ${run.stdout}`);
      if (value.started.status.bootKind !== "restore") throw new Error(`snapvm snapshot restore cold booted: ${value.started.notices.join("; ")}`);
      guest = agentGuest(home, instance, value.started.status);
      const timeline = restoreTimeline(home, instance, run.spawnedAtEpochMs, run.spawnedAtEpochMs + run.wallMs, value.started.status);
      const figures = await answerThroughAgent(guest, started, { ...timeline, cliWallMs: run.wallMs });
      await deleteSnapshot();
      return figures;
    },
    cleanup: deleteSnapshot,
  };
}
