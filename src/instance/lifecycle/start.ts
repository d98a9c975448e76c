import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import type { AgentReport } from "../../api/agent-report.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, type InstanceName, type InstancePaths } from "../../paths/index.ts";
import { inspectInstance, type InstanceSummary } from "../../store/inspect.ts";
import type { InstanceStatus } from "../../store/status.ts";
import { isActive } from "../../store/instance-state.ts";

export interface StartHooks {
  onProgress?: (step: string) => void;
  onNotice?: (message: string) => void;
  home?: string;
}

export interface StartResult {
  name: string;
  status: InstanceStatus & { pendingChanges?: string[] };
  /** Wall time of the whole start as the caller saw it. */
  totalMs: number;
  notices: string[];
}

/** How to run `snapvm agent NAME...` with the same Node, flags (e.g. tsx in tests) and entry script as this CLI. */
function agentCommand(names: readonly string[]): { command: string; args: string[] } {
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot locate the snapvm entry script to spawn the agent");
  return { command: process.execPath, args: [...process.execArgv, script, "agent", ...names] };
}

/** One instance's start: what it reported ready, or why it failed. */
export type StartOutcome = { name: InstanceName; result: StartResult } | { name: InstanceName; error: SnapvmError };

export interface GroupStartHooks {
  home?: string;
  /** Each instance's outcome, as soon as it is known. */
  onOutcome?: (outcome: StartOutcome) => void;
}

/** A record left by `snapvm migrate` is not started: the guest runs on the other host, and a second copy would diverge. */
async function movedAwayRefusal(name: InstanceName, paths: InstancePaths): Promise<SnapvmError | undefined> {
  const { readMigrationRecord } = await import("../migrate/record.ts");
  const record = await readMigrationRecord(paths);
  const went = record?.wentTo;
  if (went === undefined || (record?.cameFrom !== undefined && record.cameFrom.finishedAt > went.finishedAt)) return undefined;
  return new SnapvmError(
    ErrorCode.InvalidTransition,
    `instance "${name}" moved to ${went.peer} at ${went.finishedAt}; starting it here would run a second copy`,
    {
      hint: `Use it there, or drop this record with \`snapvm delete ${name}\`.`,
      details: { instance: name, movedTo: went.peer },
    },
  );
}

/**
 * Starts an instance by spawning its agent, detached, and waiting for the agent's report over IPC:
 * ready (restored or booted), or failed with the reason. The agent outlives this process.
 */
export async function startInstance(name: InstanceName, hooks: StartHooks = {}): Promise<StartResult> {
  const [outcome] = await spawnAgent([name], hooks);
  if (outcome === undefined) throw new Error("one outcome per instance");
  if ("error" in outcome) throw outcome.error;
  return outcome.result;
}

/**
 * Starts several instances (a fork group) served by one agent process, which outlives this one. Each
 * instance succeeds or fails on its own, with its reason: one already running, one whose QEMU cannot
 * start (a port in use) or dies fails alone; the others come up. Outcomes are in the order of `names`.
 */
export async function startInstances(names: readonly InstanceName[], hooks: GroupStartHooks = {}): Promise<StartOutcome[]> {
  return spawnAgent(names, { ...(hooks.home === undefined ? {} : { home: hooks.home }) }, hooks.onOutcome);
}

/** Refused before any agent is spawned: an instance that is already up (an orphaned QEMU is not: its agent re-adopts it). */
function refusal(name: InstanceName, current: InstanceSummary): SnapvmError | undefined {
  if (!isActive(current.state) || current.orphanedQemuPid !== undefined) return undefined;
  return new SnapvmError(ErrorCode.InstanceRunning, `instance "${name}" is already ${current.state}`, {
    hint: `Stop it first with \`snapvm stop ${name}\`.`,
    details: { instance: name, state: current.state },
  });
}

function fromReport(error: Extract<AgentReport, { kind: "failed" }>["error"]): SnapvmError {
  return new SnapvmError(error.code, error.message, { ...(error.hint === undefined ? {} : { hint: error.hint }), details: error.details });
}

async function spawnAgent(names: readonly InstanceName[], hooks: StartHooks, onOutcome?: (outcome: StartOutcome) => void): Promise<StartOutcome[]> {
  const started = performance.now();
  const outcomes = new Map<InstanceName, StartOutcome>();
  const settle = (outcome: StartOutcome): void => {
    if (outcomes.has(outcome.name)) return;
    outcomes.set(outcome.name, outcome);
    onOutcome?.(outcome);
  };
  const inspected = await Promise.all(names.map((name) => inspectInstance(name, hooks.home)));
  const movedAway = await Promise.all(
    names.map((name, i) => (inspected[i]?.state === "stopped" ? movedAwayRefusal(name, instancePaths(name, hooks.home)) : Promise.resolve(undefined))),
  );
  const pending = new Map<InstanceName, Promise<string[]>>();
  names.forEach((name, i) => {
    const current = inspected[i];
    if (current === undefined) return;
    const error = refusal(name, current) ?? movedAway[i];
    if (error !== undefined) {
      settle({ name, error });
      return;
    }
    // Worked out here, on the CLI's own core, while the agent restores: it needs the YAML and schema
    // libraries, which would otherwise delay the agent's QEMU by ~0.2 s.
    const paths = instancePaths(name, hooks.home);
    pending.set(
      name,
      current.suspended === undefined
        ? Promise.resolve([])
        : import("./pending-changes.ts").then(({ pendingChanges }) => pendingChanges(paths)).catch(() => []),
    );
  });
  const served = names.filter((name) => !outcomes.has(name));
  const [first] = served;
  if (first === undefined) return names.map((name) => outcomes.get(name) as StartOutcome);
  // A group's agent writes each instance's log to its own agent.log; the process's own stderr (a crash) goes to the first's.
  const log = openSync(instancePaths(first, hooks.home).agentLog, "a");
  const { command, args } = agentCommand(served);
  const child = spawn(command, args, { detached: true, stdio: ["ignore", log, log, "ipc"], env: process.env });
  closeSync(log);
  const notices = new Map<InstanceName, string[]>(served.map((name) => [name, []]));
  const readied = new Set<InstanceName>();
  const ofReport = (message: AgentReport): InstanceName | undefined => (served.length === 1 ? first : served.find((name) => name === message.instance));
  try {
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (served.every((name) => outcomes.has(name))) resolve();
      };
      const ready = async (name: InstanceName, status: InstanceStatus): Promise<void> => {
        const changes = status.bootKind === "restore" ? ((await pending.get(name)) ?? []) : [];
        const result: StartResult = {
          name,
          status: { ...status, ...(changes.length > 0 ? { pendingChanges: changes } : {}) },
          totalMs: performance.now() - started,
          notices: notices.get(name) ?? [],
        };
        settle({ name, result });
        check();
      };
      child.on("message", (message: AgentReport) => {
        const name = ofReport(message);
        if (name === undefined || outcomes.has(name)) return;
        switch (message.kind) {
          case "progress":
            hooks.onProgress?.(message.step);
            break;
          case "notice":
            notices.get(name)?.push(message.message);
            hooks.onNotice?.(message.message);
            break;
          case "ready":
            readied.add(name);
            void ready(name, message.status);
            break;
          case "failed":
            settle({ name, error: fromReport(message.error) });
            check();
            break;
        }
      });
      const lost = (reason: string): void => {
        for (const name of served.filter((n) => !readied.has(n))) {
          settle({
            name,
            error: new SnapvmError(ErrorCode.AgentFailed, `instance "${name}": the agent ${reason} before the VM was up`, {
              hint: `See ${instancePaths(name, hooks.home).agentLog}.`,
              details: { instance: name },
            }),
          });
        }
        check();
      };
      child.on("exit", (code, signal) => {
        lost(`exited (${signal ?? `code ${code ?? "?"}`})`);
      });
      child.on("error", (error) => {
        lost(`could not be spawned (${error.message})`);
      });
    });
    return names.map((name) => outcomes.get(name) as StartOutcome);
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
}
