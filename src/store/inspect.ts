import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../errors/index.ts";
import { isActive, type InstanceState } from "./instance-state.ts";
import { MANIFEST_NAME, instancePaths, instancesDir, tryInstanceName, type InstanceName, type InstancePaths } from "../paths/index.ts";
import { fileSizes } from "../util/file-facts.ts";
import { lockOwner } from "./lock.ts";
import { processAlive } from "../util/process-alive.ts";
import { readStatus, type InstanceStatus } from "./status.ts";

export interface SuspendFacts {
  createdAt: string;
  ageSeconds: number;
  /** Allocated on disk (holes cost nothing): the state files plus the RAM file they depend on. */
  allocatedBytes: number;
}

export interface InstanceSummary {
  name: string;
  state: InstanceState;
  dir: string;
  agentPid?: number;
  status?: InstanceStatus;
  suspended?: SuspendFacts;
  /** Why the shown state differs from the recorded one, e.g. an agent that died. */
  note?: string;
  /** Its agent died but its QEMU still runs (pid): shown as running; `snapvm start` re-adopts it. */
  orphanedQemuPid?: number;
  /** Set when the entry could not be read as an instance (state `broken`): what is wrong with it. */
  reason?: string;
}

/** The QEMU a dead agent recorded, if it still runs for this instance (its argv names the instance's QMP socket). */
function orphanedQemu(paths: InstancePaths, status: InstanceStatus): number | undefined {
  const pid = status.qemuPid;
  if (pid === undefined || !processAlive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(paths.qmpSocket) ? pid : undefined;
  } catch (error) {
    if (isErrno(error, "ENOENT") || isErrno(error, "ESRCH")) return undefined;
    throw error;
  }
}

async function suspendFacts(paths: InstancePaths): Promise<SuspendFacts | undefined> {
  let manifestText: string;
  try {
    manifestText = await readFile(join(paths.suspendDir, MANIFEST_NAME), "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  const createdAt = (JSON.parse(manifestText) as { createdAt?: unknown }).createdAt;
  const created = typeof createdAt === "string" ? createdAt : (await stat(paths.suspendDir)).mtime.toISOString();
  let allocatedBytes = 0;
  for (const entry of await readdir(paths.suspendDir)) allocatedBytes += (await fileSizes(join(paths.suspendDir, entry))).allocatedBytes;
  if (existsSync(paths.memory)) allocatedBytes += (await fileSizes(paths.memory)).allocatedBytes;
  return { createdAt: created, ageSeconds: Math.max(0, Math.round((Date.now() - Date.parse(created)) / 1000)), allocatedBytes };
}

/**
 * What an instance is now, from its files, tolerating any of them being missing or stale.
 * The recorded state is trusted only while its agent lives.
 */
export async function inspectInstance(name: InstanceName, home?: string): Promise<InstanceSummary> {
  const paths = instancePaths(name, home);
  if (!existsSync(paths.config)) {
    throw new SnapvmError(ErrorCode.InstanceNotFound, `instance "${name}" does not exist`, {
      hint: "List instances with `snapvm list`, or create it with `snapvm create`.",
      details: { instance: name },
    });
  }
  const [status, agentPid, suspended] = await Promise.all([readStatus(paths.status), lockOwner(paths.agentLock), suspendFacts(paths).catch(() => undefined)]);
  const base = { name, dir: paths.dir, ...(status === undefined ? {} : { status }), ...(suspended === undefined ? {} : { suspended }) };
  if (agentPid !== undefined) return { ...base, state: status?.state ?? "starting", agentPid };
  if (suspended !== undefined) return { ...base, state: "suspended" };
  if (status === undefined) return { ...base, state: "created" };
  if (isActive(status.state)) {
    const orphan = orphanedQemu(paths, status);
    if (orphan !== undefined)
      return {
        ...base,
        state: "running",
        orphanedQemuPid: orphan,
        note: `orphaned: its agent died while ${status.state}; QEMU pid ${orphan} still runs, \`snapvm start ${name}\` re-adopts it`,
      };
    return { ...base, state: "broken", note: `its agent exited while ${status.state}` };
  }
  return { ...base, state: status.state === "suspended" ? "stopped" : status.state };
}

/**
 * A directory entry of instances/: parsed into a name, or the reason it is not one. Hidden entries
 * (temp directories of create, fork, import) are not listed at all.
 */
export type InstanceEntry = { entry: string; dir: string } & ({ name: InstanceName } | { reason: string });

export async function listInstanceEntries(home?: string): Promise<InstanceEntry[]> {
  let entries;
  try {
    entries = await readdir(instancesDir(home), { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort()
    .map((entry) => ({ entry, dir: join(instancesDir(home), entry), ...tryInstanceName(entry) }));
}

/** The instances' names; entries that are not valid names are skipped, never used raw in a path. */
export async function listInstanceNames(home?: string): Promise<InstanceName[]> {
  return (await listInstanceEntries(home)).flatMap((e) => ("name" in e ? [e.name] : []));
}

/**
 * Like inspectInstance, for `list`: never throws for one bad entry (Lima's tolerant store.Inspect).
 * An entry that is not a valid name, has no snapvm.yaml, or whose files cannot be read shows as
 * `broken` with the reason; every error is turned into that reason because the list's contract is
 * that one entry cannot hide the others.
 */
export async function inspectEntry(entry: InstanceEntry, home?: string): Promise<InstanceSummary> {
  const broken = (reason: string): InstanceSummary => ({ name: entry.entry, state: "broken", dir: entry.dir, reason });
  if (!("name" in entry)) return broken(entry.reason);
  if (!existsSync(instancePaths(entry.name, home).config)) return broken("no snapvm.yaml in the directory");
  try {
    return await inspectInstance(entry.name, home);
  } catch (error) {
    return broken(error instanceof Error ? error.message : String(error));
  }
}
