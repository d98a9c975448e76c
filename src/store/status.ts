import { readFile } from "node:fs/promises";
import { isErrno } from "../errors/index.ts";
import { InstanceStates, type InstanceState } from "./instance-state.ts";
import { writeJsonAtomic } from "../util/atomic-write.ts";

/** What the agent records about the instance it owns. Written atomically on every transition. */
export interface InstanceStatus {
  state: InstanceState;
  updatedAt: string;
  agentPid?: number;
  qemuPid?: number;
  accel?: string;
  accelReason?: string;
  qemuVersion?: string;
  startedAt?: string;
  /** How the running VM came up: a cold boot, or a restore of a saved state. */
  bootKind?: "cold" | "restore";
  /** From spawning QEMU to the guest agent answering. */
  readyMs?: number;
  /** Why the instance last stopped, crashed or fell back to a cold boot. */
  lastEvent?: string;
}

function isStatus(value: unknown): value is InstanceStatus {
  if (typeof value !== "object" || value === null) return false;
  const state = (value as { state?: unknown }).state;
  return typeof state === "string" && (InstanceStates as readonly string[]).includes(state);
}

/** Tolerant: a missing or unreadable status means "never started", not an error. */
export async function readStatus(path: string): Promise<InstanceStatus | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    return isStatus(parsed) ? parsed : undefined;
  } catch (error) {
    if (isErrno(error, "ENOENT") || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Not fsynced: the status is a cache of what the agent knows. After a host crash the lock's dead pid
 * and the state files (suspend/, boot/) say what is true; inspect.ts trusts those first.
 */
export async function writeStatus(path: string, status: Omit<InstanceStatus, "updatedAt">): Promise<void> {
  await writeJsonAtomic(path, { ...status, updatedAt: new Date().toISOString() }, false);
}
