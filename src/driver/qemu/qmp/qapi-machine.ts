/**
 * QAPI types for run state and machine queries (QEMU 10 qapi/run-state.json, machine.json,
 * net.json, misc.json). Only fields snapvm plausibly reads are typed; QEMU may send more.
 */

export type RunState =
  | "debug"
  | "inmigrate"
  | "internal-error"
  | "io-error"
  | "paused"
  | "postmigrate"
  | "prelaunch"
  | "finish-migrate"
  | "restore-vm"
  | "running"
  | "save-vm"
  | "shutdown"
  | "suspended"
  | "watchdog"
  | "guest-panicked"
  | "colo";

export type ShutdownCause =
  | "none"
  | "host-error"
  | "host-qmp-quit"
  | "host-qmp-system-reset"
  | "host-signal"
  | "host-ui"
  | "guest-shutdown"
  | "guest-reset"
  | "guest-panic"
  | "subsystem-reset"
  | "snapshot-load";

export interface StatusInfo {
  running: boolean;
  status: RunState;
}

export interface VersionInfo {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

export interface KvmInfo {
  enabled: boolean;
  present: boolean;
}

export interface CpuInfoFast {
  "cpu-index": number;
  "qom-path": string;
  /** Host thread id of the vCPU. */
  "thread-id": number;
  target: string;
  props?: { "node-id"?: number; "socket-id"?: number; "core-id"?: number; "thread-id"?: number };
}

export interface GuidInfo {
  guid: string;
}

/** From query-rx-filter: the MAC the guest's NIC really uses (restored with the state). */
export interface RxFilterInfo {
  name: string;
  "main-mac": string;
  promiscuous: boolean;
  "unicast-table": string[];
  "multicast-table": string[];
}
