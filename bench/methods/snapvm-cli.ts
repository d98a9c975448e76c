import type { SaveFigures as AgentSaveFigures } from "../../src/api/schemas.ts";
import type { InstanceStatus } from "../../src/store/status.ts";
import type { AgentGuest, RunningGuest } from "../guest/running.ts";
import { agentGuest, answerThroughAgent, requireAgentGuest, restoreTimeline, suspendedUse } from "./snapvm-common.ts";
import type { MethodEnv, RestoreFigures, SaveFigures, SuspendMethod } from "./types.ts";

interface StopJson {
  action: string;
  save?: AgentSaveFigures;
  totalMs: number;
}
interface StartJson {
  status: InstanceStatus;
  totalMs: number;
  notices: string[];
}

/**
 * snapvm as a user runs it: `snapvm stop` (saveOnStop) and `snapvm start`, each a new CLI process.
 * The answer is timed to the first command through the agent API after `start` returned; the wall
 * time of a `snapvm exec` is recorded beside it (cliExecMs).
 */
export function snapvmCli(env: MethodEnv): SuspendMethod {
  const { home, instance } = env;
  let guest: AgentGuest | undefined;

  return {
    kind: "suspend",
    id: "snapvm-cli",
    input: "agent",
    current: (): RunningGuest | undefined => guest,
    prepare(running) {
      guest = requireAgentGuest(running, "snapvm-cli");
      return Promise.resolve();
    },
    async save(): Promise<SaveFigures> {
      guest = undefined;
      const { run, ...parsed } = await home.cliJson(["stop", instance]);
      const value = parsed.value as StopJson;
      if (value.action !== "saved" || value.save === undefined) throw new Error(`snapvm stop did not save: ${run.stdout}`);
      const use = await suspendedUse(home, instance);
      return {
        pauseMs: value.save.pauseMs,
        totalMs: run.wallMs,
        stateApparentBytes: use.apparentBytes,
        stateAllocatedBytes: use.allocatedBytes,
        extra: { agentSaveMs: value.save.totalMs, agentStopMs: value.totalMs },
      };
    },
    async restore(): Promise<RestoreFigures> {
      const started = performance.now();
      const { run, ...parsed } = await home.cliJson(["start", instance]);
      const value = parsed.value as StartJson;
      if (value.status.bootKind !== "restore") throw new Error(`snapvm start cold booted instead of restoring: ${value.notices.join("; ")}`);
      guest = agentGuest(home, instance, value.status);
      const timeline = restoreTimeline(home, instance, run.spawnedAtEpochMs, run.spawnedAtEpochMs + run.wallMs, value.status);
      const figures = await answerThroughAgent(guest, started, { ...timeline, cliWallMs: run.wallMs, cliReportedMs: value.totalMs });
      const exec = await home.cli(["exec", instance, "--", "true"]);
      if (exec.code !== 0) throw new Error(`snapvm exec failed: ${exec.stderr}`);
      return { ...figures, extra: { ...figures.extra, cliExecMs: exec.wallMs } };
    },
    cleanup: () => Promise.resolve(),
  };
}
