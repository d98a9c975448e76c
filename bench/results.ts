import type { MemoryBacking } from "../src/config/launch-spec.ts";
import type { DataCase } from "./guest-workload.ts";
import type { MachineFacts } from "./machine.ts";
import type { MethodId } from "./methods/catalog.ts";
import type { MigrationRecord } from "./methods/migrate.ts";
import type { CloudGuestRecord } from "./methods/cloud-guest.ts";
import type { ImportFigures, RestoreFigures, SaveFigures, TransferFigures, TransferVariant } from "./methods/types.ts";

export interface GuestSize {
  /** As given on the command line, e.g. "512M". */
  label: string;
  bytes: number;
}

/** The memory check after a restore: the dirtied data read back in the guest and checksummed. */
export interface MemoryCheck {
  ok: boolean;
  /** Reading all dirtied data once (what a lazy restore pays later, page by page). */
  verifyMs: number;
  qemuRssKiB: number;
  qemuPssKiB: number;
}

/** One run of one method, raw. A failed run keeps what it measured and says why. */
export interface RunRecord {
  size: GuestSize;
  /** "-" for the references, whose figures do not depend on the data. */
  dataCase: DataCase | "-";
  method: MethodId;
  /** Fork methods: how many forks started together; `restore` is then all of them answering, memory per fork. */
  forks?: number;
  /** Transfer methods (export, offload): plain or encrypted; `restore` and `check` are then the imported guest's. */
  variant?: TransferVariant;
  run: number;
  save?: SaveFigures;
  transfer?: TransferFigures;
  import?: ImportFigures;
  restore?: RestoreFigures;
  check?: MemoryCheck;
  error?: string;
  /** What was not measured and why (snapvm lacks the command, the host lacks the memory); the run does not fail. */
  skipped?: string;
}

/** The guest-side write workload on one cold-booted guest. */
export interface WorkloadRecord {
  size: GuestSize;
  run: number;
  backing: MemoryBacking;
  bytes: number;
  bootMs: number;
  firstTouchMBps: number;
  rewriteMBps: number;
}

export interface BenchOptions {
  sizes: GuestSize[];
  cases: DataCase[];
  runs: number;
  warm: boolean;
  methods: MethodId[];
  quick: boolean;
}

export interface BenchResults {
  formatVersion: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  options: BenchOptions;
  machine: MachineFacts;
  notes: string[];
  runs: RunRecord[];
  workload: WorkloadRecord[];
  /** `snapvm migrate` between the two namespaced hosts (method snapvm-migrate). */
  migrations?: MigrationRecord[];
  /** The cloud guest's runs (method cloud-guest), when it ran. */
  cloudGuest?: { gapMs: number; records: CloudGuestRecord[] };
}
