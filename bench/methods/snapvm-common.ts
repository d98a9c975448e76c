import { existsSync, readFileSync } from "node:fs";
import { AgentClient } from "../../src/api/client.ts";
import { instancePaths, parseInstanceName } from "../../src/paths/index.ts";
import type { InstanceStatus } from "../../src/store/status.ts";
import type { BenchHome } from "../home.ts";
import { diskUse, filesIn, memoryOf, type DiskUse } from "../host.ts";
import { probe, type AgentGuest, type RunningGuest } from "../guest/running.ts";
import type { Extra, RestoreFigures } from "./types.ts";

/** The guest a snapvm method takes over in prepare(): only one its own agent runs will do. */
export function requireAgentGuest(running: RunningGuest, method: string): AgentGuest {
  if (running.kind !== "agent") throw new Error(`${method} needs a snapvm guest`);
  return running;
}

/** A suspended snapvm instance costs its suspend directory plus its RAM file. */
export async function suspendedUse(home: BenchHome, name: string): Promise<DiskUse> {
  const paths = instancePaths(parseInstanceName(name), home.dir);
  return diskUse([...filesIn(paths.suspendDir), ...(existsSync(paths.memory) ? [paths.memory] : [])]);
}

export function agentGuest(home: BenchHome, name: string, status: InstanceStatus): AgentGuest {
  if (status.agentPid === undefined || status.qemuPid === undefined) throw new Error(`instance ${name}: the agent reported no pids`);
  return {
    kind: "agent",
    name,
    agentPid: status.agentPid,
    qemuPid: status.qemuPid,
    client: new AgentClient(instancePaths(parseInstanceName(name), home.dir).agentSocket, name),
  };
}

function lastTime(path: string, sinceEpochMs: number, match: (record: Record<string, unknown>) => boolean): number | undefined {
  if (!existsSync(path)) return undefined;
  let found: number | undefined;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "") continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const time = typeof record["time"] === "string" ? Date.parse(record["time"]) : Number.NaN;
      if (time >= sinceEpochMs - 5 && match(record)) found = time;
    } catch {
      // not a JSON line
    }
  }
  return found;
}

/**
 * Where a snapvm restore's time goes, from the agent's own log and events (millisecond timestamps):
 *   beforeQemuMs  command issued → the agent starts QEMU (Node start-ups, lock, config, state checks)
 *   qemuToReadyMs the agent's readyMs: QEMU spawned → guest answered and its clock was set
 *   afterReadyMs  restored → the caller hears "ready" (API server start, IPC, CLI exit)
 */
export function restoreTimeline(home: BenchHome, name: string, issuedAtEpochMs: number, readyAtEpochMs: number, status: InstanceStatus): Extra {
  const paths = instancePaths(parseInstanceName(name), home.dir);
  const restoring = lastTime(paths.agentLog, issuedAtEpochMs, (r) => r["step"] === "restoring");
  const restored = lastTime(paths.events, issuedAtEpochMs, (r) => r["event"] === "restored");
  const extra: Extra = {};
  if (restoring !== undefined) extra["beforeQemuMs"] = restoring - issuedAtEpochMs;
  if (status.readyMs !== undefined) extra["qemuToReadyMs"] = status.readyMs;
  if (restored !== undefined) extra["afterReadyMs"] = readyAtEpochMs - restored;
  return extra;
}

/** The common end of both snapvm restores: the first command through the agent API, then QEMU's memory. */
export async function answerThroughAgent(guest: AgentGuest, startedAt: number, extra: Extra): Promise<RestoreFigures> {
  const probing = performance.now();
  await probe(guest);
  const answered = performance.now();
  const memory = memoryOf(guest.qemuPid);
  const agent = memoryOf(guest.agentPid);
  return {
    answerMs: answered - startedAt,
    qemuRssKiB: memory.rssKiB,
    qemuPssKiB: memory.pssKiB,
    extra: { ...extra, probeMs: answered - probing, agentRssKiB: agent.rssKiB, agentPssKiB: agent.pssKiB },
  };
}
