import { existsSync } from "node:fs";
import { join } from "node:path";
import { mkdir, readdir, readFile, readlink, rename, rm, stat, writeFile } from "node:fs/promises";
import { isErrno } from "../../errors/index.ts";
import { failedStatePaths, newFailedStateId, tryFailedStateId, type FailedStateId, type FailedStatePaths, type InstancePaths } from "../../paths/index.ts";
import { fileSizes } from "../../util/file-facts.ts";

/**
 * Failed states are removed once this old, when another state is moved aside (`snapvm state prune`
 * removes them at any time). A week: long enough to look at one, short enough that a restore failing
 * again and again does not fill the disk with RAM files (~300 MiB each for a cloud guest).
 */
export const FAILED_STATE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** ASIDE.json: what snapvm needs to know later about a state it moved aside (REASON is the same for people). */
export interface AsideFacts {
  movedAt: string;
  reason: string;
  /** Where disk.qcow2 pointed when the state was moved: a restore of it needs the same disk. */
  diskTop: string | null;
}

export interface FailedState {
  id: FailedStateId;
  dir: string;
  movedAt: string;
  ageSeconds: number;
  reason: string;
  /** What it costs on disk, its RAM file included. */
  allocatedBytes: number;
  /** Whether `snapvm start NAME --state failed:ID` may restore it, and why not. */
  restorable: { ok: true } | { ok: false; why: string };
}

async function diskTopOf(paths: InstancePaths): Promise<string | null> {
  return readlink(paths.disk).catch((error: unknown) => {
    if (isErrno(error, "ENOENT") || isErrno(error, "EINVAL")) return null; // missing, or not a link
    throw error;
  });
}

/**
 * Keeps a state that failed to restore for a person to look at, with a REASON; never deletes it
 * (failed states past FAILED_STATE_MAX_AGE_MS are, once this one is kept). The instance's RAM file
 * goes with it when the state names it and no QEMU runs on it any more (`withRam`); an adopted guest
 * still runs on it, so then it stays. Resolves to undefined when there is no state to move; any other
 * failure (a full disk, a permission) throws and the state stays put.
 */
export async function moveStateAside(paths: InstancePaths, reason: string, options: { withRam?: boolean } = {}): Promise<string | undefined> {
  const now = new Date();
  const target = failedStatePaths(paths, newFailedStateId(now));
  await mkdir(paths.failedStatesDir, { recursive: true });
  const diskTop = await diskTopOf(paths);
  try {
    await rename(paths.suspendDir, target.dir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  await writeFile(target.reason, `${reason}\n`);
  const facts: AsideFacts = { movedAt: now.toISOString(), reason, diskTop };
  await writeFile(target.facts, `${JSON.stringify(facts, null, 2)}\n`);
  if (options.withRam !== false) {
    await rename(paths.memory, target.memory).catch((error: unknown) => {
      if (!isErrno(error, "ENOENT")) throw error;
    });
  }
  await pruneFailedStates(paths, { olderThanMs: FAILED_STATE_MAX_AGE_MS, now: now.getTime() }).catch(() => undefined); // tidying never fails a start
  return target.dir;
}

/** The facts of a failed state; one kept before ASIDE.json existed gets them from REASON and its times. */
async function readFacts(state: FailedStatePaths): Promise<Omit<AsideFacts, "diskTop"> & { diskTop?: string | null }> {
  try {
    const facts = JSON.parse(await readFile(state.facts, "utf8")) as Partial<AsideFacts>;
    if (typeof facts.movedAt === "string" && typeof facts.reason === "string")
      return { movedAt: facts.movedAt, reason: facts.reason, ...(facts.diskTop === undefined ? {} : { diskTop: facts.diskTop }) };
  } catch (error) {
    if (!isErrno(error, "ENOENT") && !(error instanceof SyntaxError)) throw error;
  }
  const reason = (await readFile(state.reason, "utf8").catch(() => "")).trim();
  const movedAt = (await stat(existsSync(state.reason) ? state.reason : state.dir)).mtime.toISOString();
  return { movedAt, reason: reason === "" ? "(no REASON file)" : reason };
}

async function allocatedBytesOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir)) total += (await fileSizes(join(dir, entry))).allocatedBytes;
  return total;
}

/** When the instance last cold booted (boot/launch.json), if it ever did. */
async function lastBootedAt(paths: InstancePaths): Promise<string | undefined> {
  try {
    const bootedAt = (JSON.parse(await readFile(paths.bootLaunch, "utf8")) as { bootedAt?: unknown }).bootedAt;
    return typeof bootedAt === "string" ? bootedAt : undefined;
  } catch {
    return undefined; // never booted, or a torn file: no boot known to have come after
  }
}

/**
 * Whether a failed state can still be restored faithfully: the guest never ran on it, and the disk is
 * the one it was saved with (no cold boot since it was moved aside, disk.qcow2 still on the same layer).
 */
function restorability(
  state: FailedStatePaths,
  facts: { movedAt: string; diskTop?: string | null },
  now: { bootedAt: string | undefined; diskTop: string | null },
  manifest: { files?: { name?: unknown; role?: unknown }[] } | undefined,
): FailedState["restorable"] {
  if (existsSync(state.resumed)) return { ok: false, why: "the guest ran after a restore of it (memory has moved on)" };
  if (manifest === undefined) return { ok: false, why: "its manifest is missing or unreadable" };
  if (now.bootedAt !== undefined && Date.parse(now.bootedAt) > Date.parse(facts.movedAt))
    return { ok: false, why: `the instance booted since (${now.bootedAt}), so its disk has moved on` };
  if (facts.diskTop !== undefined && facts.diskTop !== now.diskTop)
    return { ok: false, why: "the instance's disk changed since (a snapshot restore or a new disk layer)" };
  const ownRam = (manifest.files ?? []).some((f) => f.role === "memory" && typeof f.name === "string" && !f.name.startsWith("/"));
  if (ownRam && !existsSync(state.memory)) return { ok: false, why: "its RAM file was not kept with it (a re-adopted guest ran on it)" };
  return { ok: true };
}

/** The instance's failed states, oldest first; entries that are not valid ids are skipped, never used raw in a path. */
export async function listFailedStates(paths: InstancePaths, now = Date.now()): Promise<FailedState[]> {
  let entries: string[];
  try {
    entries = (await readdir(paths.failedStatesDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
  const current = { bootedAt: await lastBootedAt(paths), diskTop: await diskTopOf(paths) };
  const states = await Promise.all(
    entries.sort().flatMap((entry) => {
      const parsed = tryFailedStateId(entry);
      if (!("id" in parsed)) return [];
      return [
        (async (): Promise<FailedState> => {
          const state = failedStatePaths(paths, parsed.id);
          const facts = await readFacts(state);
          const manifest = await readFile(state.manifest, "utf8").then(
            (text) => JSON.parse(text) as { files?: { name?: unknown; role?: unknown }[] },
            () => undefined,
          );
          return {
            id: parsed.id,
            dir: state.dir,
            movedAt: facts.movedAt,
            ageSeconds: Math.max(0, Math.round((now - Date.parse(facts.movedAt)) / 1000)),
            reason: facts.reason,
            allocatedBytes: await allocatedBytesOf(state.dir),
            restorable: restorability(state, facts, current, manifest),
          };
        })(),
      ];
    }),
  );
  return states.sort((a, b) => Date.parse(a.movedAt) - Date.parse(b.movedAt));
}

/** Removes the instance's failed states moved aside more than `olderThanMs` ago (0: all); returns those removed. */
export async function pruneFailedStates(paths: InstancePaths, options: { olderThanMs: number; now?: number }): Promise<FailedState[]> {
  const now = options.now ?? Date.now();
  const doomed = (await listFailedStates(paths, now)).filter((s) => now - Date.parse(s.movedAt) >= options.olderThanMs);
  for (const state of doomed) await rm(state.dir, { recursive: true, force: true });
  return doomed;
}
