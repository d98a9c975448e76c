import type { BenchHome } from "../home.ts";
import type { GuestKind, RunningGuest } from "../guest/running.ts";
import type { MethodId } from "./catalog.ts";

export type { MethodId };

/** Method-specific figures (step breakdowns), recorded raw in the JSON. */
export type Extra = Record<string, number>;

export interface SaveFigures {
  /** From pausing the guest to the state being durable, fsync included. */
  pauseMs: number;
  /** The whole save as its caller sees it, until QEMU has exited. */
  totalMs: number;
  stateApparentBytes: number;
  stateAllocatedBytes: number;
  extra: Extra;
}

export interface RestoreFigures {
  /** From the restore (or boot) command to the guest answering a command. */
  answerMs: number;
  qemuRssKiB: number;
  qemuPssKiB: number;
  extra: Extra;
}

/** What every method gets: where to work, and the instance whose guest and files it uses. */
export interface MethodEnv {
  home: BenchHome;
  /** The snapvm instance of this chain (its disk, RAM file and launch spec are the guest's). */
  instance: string;
  multifdChannels: number;
}

/**
 * A way to suspend and resume the same running guest. The chain calls prepare once, then
 * save/restore once per run (dropping the page cache in between), then cleanup.
 */
export interface SuspendMethod {
  readonly kind: "suspend";
  readonly id: MethodId;
  /** The kind of running guest it saves from and restores to. */
  readonly input: GuestKind;
  /** Takes over the running guest, already converted to `input`. */
  prepare(guest: RunningGuest): Promise<void>;
  /** Saves the guest's state; its QEMU has exited when this returns. */
  save(): Promise<SaveFigures>;
  /** Restores the saved state and waits for the guest to answer. */
  restore(): Promise<RestoreFigures>;
  /** The running guest: after prepare, and after each restore. */
  current(): RunningGuest | undefined;
  /** Removes the state files it wrote. Idempotent; kills nothing (the home's cleanup does). */
  cleanup(): Promise<void>;
}

/** Not built yet: listed so the table says so, and so adding one is adding a file. */
export interface PlannedMethod {
  readonly kind: "planned";
  readonly id: MethodId;
  readonly note: string;
}

/** A reference without a saved state: cold boot. */
export interface BootMethod {
  readonly kind: "boot";
  readonly id: MethodId;
}

export type Method = SuspendMethod | PlannedMethod | BootMethod;
export type MethodFactory = (env: MethodEnv) => SuspendMethod;
