import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import {
  asideStatePaths,
  failedStatePaths,
  instancePaths,
  parseFailedStateId,
  type FailedStateId,
  type InstanceName,
  type InstancePaths,
} from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { isActive } from "../../store/instance-state.ts";
import { acquireLock } from "../../store/lock.ts";
import { fsyncDirectory } from "../../util/fsync.ts";
import { listFailedStates, type FailedState } from "../suspend/failed-states.ts";
import { startInstance, type StartHooks, type StartResult } from "./start.ts";

/** Which kept-aside state `start --state` names: `failed:ID`, or `failed:latest` for the newest. */
export type StateRef = { kind: "failed"; id: FailedStateId | "latest" };

/** Parses `--state` (E_INVALID_ARGUMENT for another form, E_INVALID_NAME for a bad id). */
export function parseStateRef(text: string): StateRef {
  if (!text.startsWith("failed:") || text.length === "failed:".length) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `--state expects failed:ID or failed:latest, got ${JSON.stringify(text)}`, {
      hint: "`snapvm state list NAME` lists the kept-aside states and their ids.",
      details: { value: text },
    });
  }
  const id = text.slice("failed:".length);
  return { kind: "failed", id: id === "latest" ? "latest" : parseFailedStateId(id) };
}

export interface FailedStateStartResult extends StartResult {
  /** The failed state that was put back and restored. */
  fromState: string;
}

function pick(states: FailedState[], name: InstanceName, ref: StateRef): FailedState {
  const state = ref.id === "latest" ? states.at(-1) : states.find((s) => s.id === ref.id);
  if (state !== undefined) return state;
  throw new SnapvmError(
    ErrorCode.InvalidArgument,
    ref.id === "latest" ? `instance "${name}" has no failed states` : `instance "${name}" has no failed state "${ref.id}"`,
    { hint: `\`snapvm state list ${name}\` lists them.`, details: { instance: name, state: ref.id } },
  );
}

/**
 * Puts a failed state back as the instance's saved state (under the instance lock):
 *   1. refuse unless the instance is not running, has no saved state of its own, and the failed state is
 *      restorable (the guest never ran on it, no cold boot and no disk change since it was kept aside);
 *   2. rename failed-states/ID to suspend/ (the RAM file it took along comes with it);
 *   3. move that RAM file back to memory.ram, where the manifest names it; drop REASON and ASIDE.json.
 * A crash between 2 and 3 leaves suspend/ with its RAM file inside: the restore then finds memory.ram
 * missing and keeps the state aside again, RAM file included, so nothing is lost.
 */
export async function reinstateFailedState(name: InstanceName, paths: InstancePaths, ref: StateRef, home?: string): Promise<FailedState> {
  const current = await inspectInstance(name, home);
  if (isActive(current.state)) {
    throw new SnapvmError(ErrorCode.InstanceRunning, `instance "${name}" is ${current.state}`, {
      hint: `Stop it first with \`snapvm stop --no-save ${name}\`.`,
      details: { instance: name, state: current.state },
    });
  }
  // Held from here to the rename: no agent can start on the instance meanwhile (E_INSTANCE_LOCKED if one has).
  const lock = await acquireLock(paths.agentLock, name);
  try {
    if (existsSync(paths.suspendDir)) {
      throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${name}" has a saved state of its own in ${paths.suspendDir}; it is restored first`, {
        hint: `Start it with \`snapvm start ${name}\`, or drop that state with \`snapvm restart ${name}\`, then try again.`,
        details: { instance: name },
      });
    }
    const state = pick(await listFailedStates(paths), name, ref);
    if (!state.restorable.ok) {
      throw new SnapvmError(
        ErrorCode.InvalidTransition,
        `failed state ${state.id} of instance "${name}" cannot be restored faithfully: ${state.restorable.why}`,
        {
          hint: `It is kept for inspection in ${state.dir}; \`snapvm state prune ${name}\` removes it.`,
          details: { instance: name, state: state.id, why: state.restorable.why },
        },
      );
    }
    const aside = failedStatePaths(paths, state.id);
    await rename(aside.dir, paths.suspendDir);
    const inSuspend = asideStatePaths(paths.suspendDir);
    await rename(inSuspend.memory, paths.memory).catch((error: unknown) => {
      if (!isErrno(error, "ENOENT")) throw error; // a fork's state maps its template's RAM file instead
    });
    await Promise.all([inSuspend.reason, inSuspend.facts].map((p) => rm(p, { force: true })));
    await fsyncDirectory(paths.dir);
    await fsyncDirectory(paths.failedStatesDir);
    return state;
  } finally {
    await lock.release();
  }
}

/** `snapvm start NAME --state failed:ID`: restores a state kept aside after a failed restore. */
export async function startFailedState(name: InstanceName, ref: StateRef, hooks: StartHooks = {}): Promise<FailedStateStartResult> {
  const paths = instancePaths(name, hooks.home);
  hooks.onProgress?.("putting the failed state back");
  const state = await reinstateFailedState(name, paths, ref, hooks.home);
  return { ...(await startInstance(name, hooks)), fromState: state.id };
}
