import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import type { AgentReport } from "../../api/agent-report.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, type InstanceName, type InstancePaths } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
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

/** How to run `snapvm agent NAME` with the same Node, flags (e.g. tsx in tests) and entry script as this CLI. */
function agentCommand(name: string): { command: string; args: string[] } {
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot locate the snapvm entry script to spawn the agent");
  return { command: process.execPath, args: [...process.execArgv, script, "agent", name] };
}

/** A record left by `snapvm migrate` is not started: the guest runs on the other host, and a second copy would diverge. */
async function refuseMovedAway(name: InstanceName, paths: InstancePaths): Promise<void> {
  const { readMigrationRecord } = await import("../migrate/record.ts");
  const record = await readMigrationRecord(paths);
  const went = record?.wentTo;
  if (went === undefined || (record?.cameFrom !== undefined && record.cameFrom.finishedAt > went.finishedAt)) return;
  throw new SnapvmError(
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
  const started = performance.now();
  const current = await inspectInstance(name, hooks.home);
  // An orphaned QEMU (its agent died) is not refused: the agent started here re-adopts it.
  if (isActive(current.state) && current.orphanedQemuPid === undefined) {
    throw new SnapvmError(ErrorCode.InstanceRunning, `instance "${name}" is already ${current.state}`, {
      hint: `Stop it first with \`snapvm stop ${name}\`.`,
      details: { instance: name, state: current.state },
    });
  }
  const paths = instancePaths(name, hooks.home);
  if (current.state === "stopped") await refuseMovedAway(name, paths);
  const log = openSync(paths.agentLog, "a");
  const { command, args } = agentCommand(name);
  const child = spawn(command, args, { detached: true, stdio: ["ignore", log, log, "ipc"], env: process.env });
  closeSync(log);
  const notices: string[] = [];
  // Worked out here, on the CLI's own core, while the agent restores: it needs the YAML and schema
  // libraries, which would otherwise delay the agent's QEMU by ~0.2 s.
  const pending =
    current.suspended === undefined ? Promise.resolve([]) : import("./pending-changes.ts").then(({ pendingChanges }) => pendingChanges(paths)).catch(() => []);
  try {
    const status = await new Promise<StartResult["status"]>((resolve, reject) => {
      child.on("message", (message: AgentReport) => {
        switch (message.kind) {
          case "progress":
            hooks.onProgress?.(message.step);
            break;
          case "notice":
            notices.push(message.message);
            hooks.onNotice?.(message.message);
            break;
          case "ready":
            resolve(message.status);
            break;
          case "failed":
            reject(
              new SnapvmError(message.error.code, message.error.message, {
                ...(message.error.hint === undefined ? {} : { hint: message.error.hint }),
                details: message.error.details,
              }),
            );
            break;
        }
      });
      child.on("exit", (code, signal) => {
        reject(
          new SnapvmError(ErrorCode.AgentFailed, `instance "${name}": the agent exited (${signal ?? `code ${code ?? "?"}`}) before the VM was up`, {
            hint: `See ${paths.agentLog}.`,
            details: { instance: name },
          }),
        );
      });
      child.on("error", reject);
    });
    const changes = status.bootKind === "restore" ? await pending : [];
    return { name, status: { ...status, ...(changes.length > 0 ? { pendingChanges: changes } : {}) }, totalMs: performance.now() - started, notices };
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
}
