import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { waitAgentGone } from "../../src/instance/lifecycle/stop.ts";
import { instancePaths, parseInstanceName } from "../../src/paths/index.ts";
import type { InstanceStatus } from "../../src/store/status.ts";
import { CLI, type BenchHome } from "../home.ts";
import type { AgentGuest, RunningGuest } from "../guest/running.ts";
import { agentGuest, answerThroughAgent, requireAgentGuest, restoreTimeline, suspendedUse } from "./snapvm-common.ts";
import type { MethodEnv, RestoreFigures, SaveFigures, SuspendMethod } from "./types.ts";

/** The messages a starting agent sends its spawner over IPC (src/agent/report.ts), as far as read here. */
interface AgentMessage {
  kind: string;
  status?: InstanceStatus;
  error?: { message: string };
}

/**
 * Spawns `snapvm agent NAME` the way `snapvm start` does (detached, log on stdout/stderr, IPC) and
 * waits for its report. Not startInstance(): that spawns process.argv[1], which here is the benchmark.
 */
function spawnAgent(home: BenchHome, name: string): Promise<InstanceStatus> {
  const log = openSync(instancePaths(parseInstanceName(name), home.dir).agentLog, "a");
  const child = spawn(process.execPath, [CLI, "agent", name], {
    detached: true,
    stdio: ["ignore", log, log, "ipc"],
    env: { ...process.env, SNAPVM_HOME: home.dir },
  });
  closeSync(log);
  if (child.pid !== undefined) home.track(child.pid);
  return new Promise<InstanceStatus>((resolve, reject) => {
    child.on("message", (message: AgentMessage) => {
      if (message.kind === "ready" && message.status !== undefined) resolve(message.status);
      if (message.kind === "failed") reject(new Error(`the agent failed: ${message.error?.message ?? "?"}`));
    });
    child.on("exit", (code, signal) => {
      reject(new Error(`the agent exited (${signal ?? `code ${code ?? "?"}`}) before it was ready`));
    });
    child.on("error", reject);
  }).finally(() => {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  });
}

/** snapvm without its CLI: save through the agent API, resume by spawning the agent directly. */
export function snapvmApi(env: MethodEnv): SuspendMethod {
  const { home, instance } = env;
  let guest: AgentGuest | undefined;

  return {
    kind: "suspend",
    id: "snapvm-api",
    input: "agent",
    current: (): RunningGuest | undefined => guest,
    prepare(running) {
      guest = requireAgentGuest(running, "snapvm-api");
      return Promise.resolve();
    },
    async save(): Promise<SaveFigures> {
      if (guest === undefined) throw new Error("snapvm-api: nothing to save");
      const saving = guest;
      guest = undefined;
      const started = performance.now();
      const response = await saving.client.stop({ mode: "save" });
      await waitAgentGone(saving.agentPid, instancePaths(parseInstanceName(saving.name), home.dir).agentLock);
      const totalMs = performance.now() - started;
      if (response.save === undefined) throw new Error(`the agent did not save (${response.action})`);
      const use = await suspendedUse(home, instance);
      return {
        pauseMs: response.save.pauseMs,
        totalMs,
        stateApparentBytes: use.apparentBytes,
        stateAllocatedBytes: use.allocatedBytes,
        extra: { agentSaveMs: response.save.totalMs, agentStopMs: response.totalMs },
      };
    },
    async restore(): Promise<RestoreFigures> {
      const issuedAt = Date.now();
      const started = performance.now();
      const status = await spawnAgent(home, instance);
      const readyMs = performance.now() - started;
      if (status.bootKind !== "restore") throw new Error(`the agent cold booted instead of restoring: ${status.lastEvent ?? ""}`);
      guest = agentGuest(home, instance, status);
      const timeline = restoreTimeline(home, instance, issuedAt, issuedAt + readyMs, status);
      return answerThroughAgent(guest, started, { ...timeline, spawnToReadyMs: readyMs });
    },
    cleanup: () => Promise.resolve(),
  };
}
