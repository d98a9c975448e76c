import { createInstance } from "../instance/lifecycle/create.ts";
import { deleteInstance } from "../instance/lifecycle/delete.ts";
import { restartInstance } from "../instance/lifecycle/restart.ts";
import { saveInstance } from "../instance/lifecycle/save.ts";
import { startInstance } from "../instance/lifecycle/start.ts";
import { stopInstance } from "../instance/lifecycle/stop.ts";
import { forkInstance } from "../instance/fork/fork.ts";
import { compressSnapshot } from "../instance/snapshots/compress.ts";
import { createSnapshot } from "../instance/snapshots/create.ts";
import { deleteSnapshot } from "../instance/snapshots/delete.ts";
import { restoreSnapshot } from "../instance/snapshots/restore.ts";
import { benchResultsDir, instancePaths, parseInstanceName, parseSnapshotTag } from "../paths/index.ts";
import { benchCharts } from "./bench.ts";
import { instanceEvents, instanceLogLines, instanceRows, snapshotTree } from "./instances.ts";
import type { CreateBody, ForkBody, InstanceAction, SnapshotAction } from "./requests.ts";
import type { UiBenchChart, UiInstanceRow, UiSnapshotTree } from "./wire.ts";

/**
 * What the dashboard can do: the same library calls the CLI's commands make (running instances are
 * reached through their agent's /v1 API inside them). An interface so the routes test without VMs.
 */
export interface UiOperations {
  list(): Promise<UiInstanceRow[]>;
  create(body: CreateBody): Promise<unknown>;
  act(name: string, action: InstanceAction): Promise<unknown>;
  remove(name: string): Promise<unknown>;
  tree(name: string): Promise<UiSnapshotTree>;
  /** The instance's newest events (events.jsonl), oldest first. */
  events(name: string): Promise<Record<string, unknown>[]>;
  /** The newest lines of the instance's agent log (agent.log, QEMU's stderr included), oldest first. */
  logs(name: string): Promise<string[]>;
  snapshot(name: string, tag: string): Promise<unknown>;
  snapshotAction(name: string, tag: string, action: SnapshotAction): Promise<unknown>;
  removeSnapshot(name: string, tag: string): Promise<unknown>;
  fork(name: string, tag: string, body: ForkBody): Promise<unknown>;
  /** Charts of the latest bench results (bench/results/). */
  bench(): Promise<UiBenchChart[]>;
  /** The agent's socket, for the console proxy (the instance must be running; the proxy reports otherwise). */
  agentSocket: (name: string) => string;
}

export const libraryOperations: UiOperations = {
  list: instanceRows,
  create: (body) =>
    createInstance(parseInstanceName(body.name), {
      ports: [],
      ...(body.memory === undefined ? {} : { memory: body.memory }),
      ...(body.cpus === undefined ? {} : { cpus: body.cpus }),
      ...(body.image === undefined ? {} : { image: body.image }),
    }),
  act: (text, action) => {
    const name = parseInstanceName(text);
    switch (action) {
      case "start":
        return startInstance(name);
      case "stop":
        return stopInstance(name, "auto");
      case "save":
        return saveInstance(name);
      case "restart":
        return restartInstance(name);
    }
  },
  // The page asked the user to confirm by the instance's name: a running one is stopped first (--force).
  remove: (name) => deleteInstance(parseInstanceName(name), { force: true }),
  tree: snapshotTree,
  events: instanceEvents,
  logs: instanceLogLines,
  snapshot: (name, tag) => createSnapshot(parseInstanceName(name), parseSnapshotTag(tag)),
  snapshotAction: (name, tag, action) =>
    action === "restore" ? restoreSnapshot(parseInstanceName(name), parseSnapshotTag(tag)) : compressSnapshot(parseInstanceName(name), parseSnapshotTag(tag)),
  removeSnapshot: (name, tag) => deleteSnapshot(parseInstanceName(name), parseSnapshotTag(tag)),
  fork: (name, tag, body) => forkInstance(`${parseInstanceName(name)}@${parseSnapshotTag(tag)}`, body.name, { count: body.count, start: true }),
  bench: () => benchCharts(benchResultsDir()),
  agentSocket: (name) => instancePaths(parseInstanceName(name)).agentSocket,
};
