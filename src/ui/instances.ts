import { instanceInfo } from "../instance/lifecycle/info.ts";
import { listInstances } from "../instance/lifecycle/list.ts";
import { logRecords } from "../instance/lifecycle/log-lines.ts";
import { readLog } from "../instance/lifecycle/logs.ts";
import { forksOfInstance, latestSnapshotTag, listSnapshots } from "../instance/snapshots/list.ts";
import { instancePaths, parseInstanceName } from "../paths/index.ts";
import { readOrigin } from "../store/fork-origin.ts";
import type { InstanceSummary } from "../store/inspect.ts";
import type { UiInstanceRow, UiSnapshotTree } from "./wire.ts";

async function row(summary: InstanceSummary): Promise<UiInstanceRow> {
  const base: UiInstanceRow = {
    name: summary.name,
    state: summary.state,
    ports: [],
    ...(summary.status?.accel === undefined ? {} : { accel: summary.status.accel }),
    ...(summary.suspended === undefined ? {} : { saved: { allocatedBytes: summary.suspended.allocatedBytes, ageSeconds: summary.suspended.ageSeconds } }),
    ...((summary.reason ?? summary.note) !== undefined ? { note: summary.reason ?? summary.note ?? "" } : {}),
  };
  if (summary.state === "broken") return base;
  const name = parseInstanceName(summary.name);
  const [info, origin] = await Promise.all([instanceInfo(name), readOrigin(instancePaths(name))]);
  const startedAt = info.status?.startedAt;
  return {
    ...base,
    ...("error" in info.config
      ? {}
      : {
          memory: info.config.memory.size,
          cpus: info.config.cpus,
          ports: info.config.ports.map((p) => ({ host: p.host, guest: p.guest, protocol: p.protocol })),
        }),
    ...(summary.state === "running" && startedAt !== undefined ? { uptimeSeconds: Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000)) } : {}),
    ...(origin === undefined ? {} : { origin: { instance: origin.instance, tag: origin.tag } }),
  };
}

/** The instances table: what `snapvm list` shows plus memory, ports, uptime and fork origin. */
export async function instanceRows(): Promise<UiInstanceRow[]> {
  return Promise.all((await listInstances()).map(row));
}

/** One instance's snapshots as a tree (by parent), the forks hanging off each, and where "now" is. */
export async function snapshotTree(nameText: string): Promise<UiSnapshotTree> {
  const name = parseInstanceName(nameText);
  const paths = instancePaths(name);
  const [entries, forks, origin, nowParent, info] = await Promise.all([
    listSnapshots(name),
    forksOfInstance(name),
    readOrigin(paths),
    latestSnapshotTag(paths),
    instanceInfo(name),
  ]);
  return {
    instance: name,
    state: info.state,
    ...(origin === undefined ? {} : { origin: { instance: origin.instance, tag: origin.tag } }),
    nowParent,
    snapshots: entries.flatMap((s) =>
      s.kind === "broken"
        ? []
        : [
            {
              tag: s.tag,
              parent: s.parent,
              createdAt: s.createdAt,
              kind: s.kind,
              live: s.live,
              hasMemory: s.hasMemory,
              pauseMs: s.pauseMs,
              allocatedBytes: s.allocatedBytes,
              apparentBytes: s.apparentBytes,
              compressed: s.compressed,
              forks: forks.filter((f) => f.tag === s.tag).map((f) => f.name),
            },
          ],
    ),
    broken: entries.flatMap((s) => (s.kind === "broken" ? [{ tag: s.tag, reason: s.reason }] : [])),
  };
}

/** How many of an instance's events, and of its agent log's lines, the page shows. */
const EVENTS_SHOWN = 30;
const LOG_LINES_SHOWN = 60;

/** The newest lines of `snapvm logs NAME --agent`, oldest first (a missing log is no lines). */
export async function instanceLogLines(nameText: string): Promise<string[]> {
  const kept: string[] = [];
  for await (const record of logRecords("agent", readLog(parseInstanceName(nameText), "agent"))) {
    if (typeof record["line"] !== "string") continue;
    kept.push(record["line"]);
    if (kept.length > LOG_LINES_SHOWN) kept.shift();
  }
  return kept;
}

/** The newest events of `snapvm logs NAME --events --json`, oldest first. */
export async function instanceEvents(nameText: string): Promise<Record<string, unknown>[]> {
  const kept: Record<string, unknown>[] = [];
  for await (const record of logRecords("events", readLog(parseInstanceName(nameText), "events"))) {
    kept.push(record);
    if (kept.length > EVENTS_SHOWN) kept.shift();
  }
  return kept;
}
