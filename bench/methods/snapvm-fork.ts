import { existsSync } from "node:fs";
import type { ForkResult } from "../../src/instance/fork/fork.ts";
import { forksOf } from "../../src/instance/snapshots/list.ts";
import { instancePaths, parseInstanceName, parseSnapshotTag, snapshotPaths } from "../../src/paths/index.ts";
import { probe, type AgentGuest, type RunningGuest } from "../guest/running.ts";
import { memoryOf } from "../host.ts";
import { agentGuest, requireAgentGuest } from "./snapvm-common.ts";
import type { ForkFigures, ForkMethod, MethodEnv } from "./types.ts";

/** The fan-outs; the memory guard (fan-out.ts) skips those the host cannot hold. */
const FORK_COUNTS = [1, 4, 16, 64] as const;
const TAG = "bench-fork";

/**
 * `snapvm fork NAME@TAG NEW --count N` from one live snapshot of the chain's guest, which runs on.
 * A fan-out is timed from the command to every fork answering a command through its agent API (the
 * fork command itself returns once each fork's agent reports ready). The forks map the snapshot's RAM
 * file copy-on-write, so memory is given per fork: the sum over every process serving the forks (their
 * QEMUs and agents, each counted once) divided by N, taken once all answer. Each fan-out's forks are deleted before the next; the snapshot goes last.
 */
export function snapvmFork(env: MethodEnv): ForkMethod {
  const { home, instance } = env;
  let guest: AgentGuest | undefined;

  const removeForks = async (): Promise<void> => {
    const names = await forksOf(parseInstanceName(instance), parseSnapshotTag(TAG), home.dir);
    const runs = await Promise.all(names.map((name) => home.deleteInstance(name)));
    const failed = runs.filter((r) => r.code !== 0);
    if (failed.length > 0) throw new Error(`could not delete ${failed.length} of ${names.length} forks: ${failed[0]?.stderr.trim() ?? ""}`);
  };

  return {
    kind: "fork",
    id: "snapvm-fork",
    input: "agent",
    counts: FORK_COUNTS,
    current: (): RunningGuest | undefined => guest,
    async prepare(running) {
      guest = requireAgentGuest(running, "snapvm-fork");
      await home.cliJson(["snapshot", "create", instance, TAG]);
    },
    async fork(count): Promise<ForkFigures> {
      const started = performance.now();
      const { run, ...parsed } = await home.cliJson(["fork", `${instance}@${TAG}`, `${instance}f${count}`, "--count", String(count)]);
      const value = parsed.value as ForkResult;
      const forks = value.forks.map((fork) => {
        if (fork.started === undefined) throw new Error(`fork ${fork.name} was not started`);
        if (fork.started.status.bootKind !== "restore") throw new Error(`fork ${fork.name} cold booted: ${fork.started.notices.join("; ")}`);
        return agentGuest(home, fork.name, fork.started.status);
      });
      if (forks.length !== count) throw new Error(`snapvm fork made ${forks.length} forks, not ${count}`);
      await Promise.all(forks.map((fork) => probe(fork)));
      const answered = performance.now();
      // Every process serving the forks, each counted once (forks may share a serving process).
      const qemuPids = new Set(forks.map((fork) => fork.qemuPid));
      const servingPids = new Set(forks.map((fork) => fork.agentPid).filter((pid) => !qemuPids.has(pid)));
      const qemu = [...qemuPids].map(memoryOf);
      const serving = [...servingPids].map(memoryOf);
      const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
      const all = [...qemu, ...serving];
      const sample = forks.at(-1);
      if (sample === undefined) throw new Error("snapvm fork made no fork");
      return {
        sample,
        processes: { qemu: [...qemuPids], other: [...servingPids] },
        restore: {
          answerMs: answered - started,
          qemuRssKiB: sum(all.map((m) => m.rssKiB)) / count,
          qemuPssKiB: sum(all.map((m) => m.pssKiB)) / count,
          extra: {
            cliWallMs: run.wallMs,
            cliReportedMs: value.totalMs,
            slowestQemuToReadyMs: Math.max(...value.forks.map((f) => f.started?.status.readyMs ?? Number.NaN)),
            processesPerFork: (qemuPids.size + servingPids.size) / count,
            qemuPssKiBPerFork: sum(qemu.map((m) => m.pssKiB)) / count,
            servingPssKiBPerFork: sum(serving.map((m) => m.pssKiB)) / count,
          },
        },
      };
    },
    removeForks,
    async cleanup() {
      await removeForks();
      if (existsSync(snapshotPaths(instancePaths(parseInstanceName(instance), home.dir), parseSnapshotTag(TAG)).dir))
        await home.cliJson(["snapshot", "delete", instance, TAG]);
    },
  };
}
