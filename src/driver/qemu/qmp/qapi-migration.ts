/** QAPI types for migration (QEMU 10 qapi/migration.json), limited to what snapvm uses. */

export type MigrationStatus =
  | "none"
  | "setup"
  | "cancelling"
  | "cancelled"
  | "active"
  | "postcopy-active"
  | "postcopy-paused"
  | "postcopy-recover-setup"
  | "postcopy-recover"
  | "completed"
  | "failed"
  | "colo"
  | "pre-switchover"
  | "device"
  | "wait-unplug";

/** The capabilities snapvm sets. Capabilities persist in a QEMU process: set each one before every migrate. */
export type MigrationCapability =
  "x-ignore-shared" | "mapped-ram" | "multifd" | "background-snapshot" | "postcopy-ram" | "events" | "pause-before-switchover" | "late-block-activate";

export interface MigrationCapabilityStatus {
  capability: MigrationCapability;
  state: boolean;
}

export interface MigrationParameters {
  /** Bytes per second; QEMU's default (128 MiB/s) also throttles saving a stopped VM. */
  "max-bandwidth"?: number;
  /** Milliseconds. */
  "downtime-limit"?: number;
  "multifd-channels"?: number;
}

/** RAM statistics; every field is present whenever `ram` is. */
export interface MigrationStats {
  transferred: number;
  remaining: number;
  total: number;
  duplicate: number;
  normal: number;
  "normal-bytes": number;
  "dirty-sync-count": number;
  "page-size": number;
  mbps: number;
  /** Pages dirtied per second in the last pass (absent before the first sync). */
  "dirty-pages-rate"?: number;
}

/** query-migrate; `{}` before any migration, and a completed one may omit the statistics. */
export interface MigrationInfo {
  status?: MigrationStatus;
  ram?: MigrationStats;
  /** Milliseconds, all of them. */
  "total-time"?: number;
  "setup-time"?: number;
  downtime?: number;
  "expected-downtime"?: number;
  "error-desc"?: string;
}
