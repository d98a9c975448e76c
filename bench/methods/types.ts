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
  /** Saves the guest's state; its QEMU has exited when this returns, unless the method saves live (a snapshot). */
  save(): Promise<SaveFigures>;
  /** Restores the saved state and waits for the guest to answer. */
  restore(): Promise<RestoreFigures>;
  /** The running guest: after prepare, and after each restore. */
  current(): RunningGuest | undefined;
  /** Removes the state files it wrote. Idempotent; kills nothing (the home's cleanup does). */
  cleanup(): Promise<void>;
}

/** What one fan-out measured: `restore` is for all forks together (answerMs) and per fork (RSS, PSS). */
export interface ForkFigures {
  restore: RestoreFigures;
  /** One of the forks, running, for the memory check. */
  sample: RunningGuest;
  /** Every process serving the forks, each once: their QEMUs, and anything else (agents). */
  processes: { qemu: number[]; other: number[] };
}

/**
 * New guests from the running one, which runs on untouched. The chain calls prepare once (it takes
 * the state the forks resume from), then per fan-out and run: fork, then removeForks; then cleanup.
 */
export interface ForkMethod {
  readonly kind: "fork";
  readonly id: MethodId;
  readonly input: GuestKind;
  /** How many forks each fan-out starts together, in the order they run. */
  readonly counts: readonly number[];
  prepare(guest: RunningGuest): Promise<void>;
  /** Starts `count` forks and waits until every one answers a command. */
  fork(count: number): Promise<ForkFigures>;
  /** Deletes every fork, a half-started fan-out's included. Idempotent. */
  removeForks(): Promise<void>;
  /** The guest forked from, still running. */
  current(): RunningGuest | undefined;
  /** Removes the forks and the state they resumed from. Idempotent. */
  cleanup(): Promise<void>;
}

/** What a transfer method writes: the state as it is, or age-encrypted to a recipient. */
export const TRANSFER_VARIANTS = ["plain", "encrypted"] as const;
export type TransferVariant = (typeof TRANSFER_VARIANTS)[number];

/** One export (or live offload) of a snapshot's state to a file. */
export interface TransferFigures {
  /** The whole transfer as its caller sees it, from the command to the output being durable. */
  totalMs: number;
  /** Live offload only: how long the guest was frozen. */
  pauseMs?: number;
  /** The state data carried: bytes read from the files, holes and zero frames not counted. */
  dataBytes: number;
  /** What the files read occupy on disk; undefined for a live offload, which reads no file. */
  sourceAllocatedBytes?: number;
  outputAllocatedBytes: number;
  outputApparentBytes: number;
  extra: Extra;
}

/** Bringing the output back: into a second home (snapvm), or unpacked into a directory (do-it-yourself). */
export interface ImportFigures {
  totalMs: number;
  extra: Extra;
}

export interface ImportedBack {
  import: ImportFigures;
  /** snapvm imports: restore → the imported guest answering a command. */
  restore?: RestoreFigures;
  /** The imported guest, running, for the memory check. */
  guest?: RunningGuest;
}

/**
 * Moves the running guest's state out of the instance and back, per variant: the chain calls prepare
 * once, then per run and variant transfer, importBack, discard; then cleanup. The guest runs on.
 */
export interface TransferMethod {
  readonly kind: "transfer";
  readonly id: MethodId;
  readonly input: GuestKind;
  readonly variants: readonly TransferVariant[];
  /** importBack starts a guest of the chain's size (the memory guard applies). */
  readonly importStartsGuest: boolean;
  prepare(guest: RunningGuest): Promise<void>;
  /** Writes the state to the variant's output file. Throws TransferUnsupported when snapvm has no such command. */
  transfer(variant: TransferVariant): Promise<TransferFigures>;
  importBack(variant: TransferVariant): Promise<ImportedBack>;
  /** Removes the variant's output and whatever importBack made (a half-done import's too). Idempotent. */
  discard(variant: TransferVariant): Promise<void>;
  /** The guest the state is taken from, still running. */
  current(): RunningGuest | undefined;
  /** Removes everything the method made. Idempotent. */
  cleanup(): Promise<void>;
}

/** The CLI has no such command or option yet: the method's rows say why they were skipped, and the run does not fail. */
export class TransferUnsupported extends Error {}

/** A reference without a saved state: cold boot. */
export interface BootMethod {
  readonly kind: "boot";
  readonly id: MethodId;
}

/** The methods a chain runs on its one guest. */
export type ChainMethod = SuspendMethod | ForkMethod | TransferMethod;
export type Method = ChainMethod | BootMethod;
export type MethodFactory = (env: MethodEnv) => ChainMethod;
