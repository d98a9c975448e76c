import type { BlockJobEventInfo, BlockJobType } from "./qapi-block.ts";
import type { ShutdownCause } from "./qapi-machine.ts";
import type { MigrationStatus } from "./qapi-migration.ts";
import type { QmpEventMessage, QmpTimestamp } from "./protocol.ts";

export type NoData = Record<string, never>;

/** The QMP events snapvm reacts to, name → data, as of QEMU 10.0. Other events still reach `onEvent`. */
export interface QmpEventMap {
  STOP: NoData;
  RESUME: NoData;
  POWERDOWN: NoData;
  /** `guest` is true when the guest asked for it; `reason` says how. */
  SHUTDOWN: { guest: boolean; reason: ShutdownCause };
  RESET: { guest: boolean; reason: ShutdownCause };
  /** Sent only while the `events` migration capability is on. */
  MIGRATION: { status: MigrationStatus };
  MIGRATION_PASS: { pass: number };
  BLOCK_JOB_COMPLETED: BlockJobEventInfo & { error?: string };
  BLOCK_JOB_CANCELLED: BlockJobEventInfo;
  BLOCK_JOB_READY: BlockJobEventInfo;
  BLOCK_JOB_ERROR: { device: string; operation: "read" | "write"; action: "ignore" | "report" | "stop" };
  BLOCK_JOB_PENDING: { type: BlockJobType; id: string };
}

export type QmpEventName = keyof QmpEventMap;

export interface QmpEvent<N extends QmpEventName> {
  event: N;
  data: QmpEventMap[N];
  timestamp: QmpTimestamp;
}

/** Narrows a wire event to a known one by name; the data is trusted to match QEMU's schema. */
export function isQmpEvent<N extends QmpEventName>(event: QmpEventMessage, name: N): event is QmpEventMessage & QmpEvent<N> {
  return event.event === name;
}
