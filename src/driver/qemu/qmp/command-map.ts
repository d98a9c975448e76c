import type { BlockDeviceInfo, BlockInfo, BlockJobInfo, BlockdevSnapshotSyncArgs } from "./qapi-block.ts";
import type { CpuInfoFast, GuidInfo, KvmInfo, RxFilterInfo, StatusInfo, VersionInfo } from "./qapi-machine.ts";
import type { MigrationCapabilityStatus, MigrationInfo, MigrationParameters, MigrationStatus } from "./qapi-migration.ts";

/** Arguments of a command that takes none. */
export type NoArgs = Record<string, never>;
/** The `{}` most commands return. */
export type EmptyReturn = Record<string, never>;

/**
 * The QMP commands snapvm sends, name → arguments and return value, as of QEMU 10.0
 * (checked against `query-qmp-schema` of qemu-system-x86_64 10.0.2). Replies are trusted,
 * not validated at runtime.
 */
export interface QmpCommandMap {
  qmp_capabilities: { args: { enable?: "oob"[] }; returns: EmptyReturn };
  "query-status": { args: NoArgs; returns: StatusInfo };
  "query-version": { args: NoArgs; returns: VersionInfo };
  "query-kvm": { args: NoArgs; returns: KvmInfo };
  stop: { args: NoArgs; returns: EmptyReturn };
  cont: { args: NoArgs; returns: EmptyReturn };
  /** QEMU replies, emits SHUTDOWN, then closes the socket; the reply can be lost in that race. */
  quit: { args: NoArgs; returns: EmptyReturn };
  system_powerdown: { args: NoArgs; returns: EmptyReturn };
  /** `frontend-open`: for a virtio-serial port's chardev, whether the guest has the port open. */
  "query-chardev": { args: NoArgs; returns: { label: string; filename: string; "frontend-open": boolean }[] };
  system_reset: { args: NoArgs; returns: EmptyReturn };
  "migrate-set-capabilities": { args: { capabilities: MigrationCapabilityStatus[] }; returns: EmptyReturn };
  "query-migrate-capabilities": { args: NoArgs; returns: { capability: string; state: boolean }[] };
  "migrate-set-parameters": { args: MigrationParameters; returns: EmptyReturn };
  /** Returns once the migration has started; follow it with MIGRATION events or query-migrate. */
  migrate: { args: { uri: string; resume?: boolean }; returns: EmptyReturn };
  /** Post-copy recovery: either side's broken post-copy goes to postcopy-paused. */
  "migrate-pause": { args: NoArgs; returns: EmptyReturn };
  /** Destination, post-copy paused: listen on `uri` for the source's `migrate resume=true`. */
  "migrate-recover": { args: { uri: string }; returns: EmptyReturn };
  /** Needs QEMU started with `-incoming defer`. */
  "migrate-continue": { args: { state: MigrationStatus }; returns: EmptyReturn };
  "migrate-incoming": { args: { uri: string; "exit-on-error"?: boolean }; returns: EmptyReturn };
  "query-migrate": { args: NoArgs; returns: MigrationInfo };
  /** Needs postcopy-ram on both sides: the destination runs the guest and pulls the pages still missing. */
  "migrate-start-postcopy": { args: NoArgs; returns: EmptyReturn };
  migrate_cancel: { args: NoArgs; returns: EmptyReturn };
  "blockdev-snapshot-sync": { args: BlockdevSnapshotSyncArgs; returns: EmptyReturn };
  "query-block": { args: NoArgs; returns: BlockInfo[] };
  /** An NBD server on a unix socket (host-to-host migration: the destination's disk export). */
  "nbd-server-start": { args: { addr: { type: "unix"; data: { path: string } } }; returns: EmptyReturn };
  "nbd-server-stop": { args: NoArgs; returns: EmptyReturn };
  /** Activates an inactive (incoming) node unless allow-inactive: the mirror writes before the switch-over. */
  "block-export-add": { args: { type: "nbd"; id: string; "node-name": string; writable?: boolean; name?: string }; returns: EmptyReturn };
  /** A node of any driver; snapvm adds an NBD client (the mirror's target). */
  "blockdev-add": { args: { driver: "nbd"; "node-name": string; server: { type: "unix"; path: string }; export: string }; returns: EmptyReturn };
  "blockdev-del": { args: { "node-name": string }; returns: EmptyReturn };
  /** sync "top": only the top layer's clusters; the target has the same backing chain already. */
  "blockdev-mirror": { args: { "job-id": string; device: string; target: string; sync: "top" | "full"; speed?: number }; returns: EmptyReturn };
  /** On a ready mirror: ends the job with the target a consistent copy, without pivoting to it. */
  "block-job-cancel": { args: { device: string; force?: boolean }; returns: EmptyReturn };
  "query-block-jobs": { args: NoArgs; returns: BlockJobInfo[] };
  "query-named-block-nodes": { args: { flat?: boolean }; returns: BlockDeviceInfo[] };
  /** HMP output as one string; HMP failures usually come back as text, not as a QMP error. */
  "human-monitor-command": { args: { "command-line": string; "cpu-index"?: number }; returns: string };
  /** Fails with GenericError "VM Generation ID device not found" without `-device vmgenid`. */
  "query-vm-generation-id": { args: NoArgs; returns: GuidInfo };
  "query-rx-filter": { args: { name?: string }; returns: RxFilterInfo[] };
  "query-cpus-fast": { args: NoArgs; returns: CpuInfoFast[] };
  /** The file descriptor must travel with SCM_RIGHTS, which this client does not send. */
  getfd: { args: { fdname: string }; returns: EmptyReturn };
}

export type QmpCommandName = keyof QmpCommandMap;
export type QmpArgs<C extends QmpCommandName> = QmpCommandMap[C]["args"];
export type QmpReturns<C extends QmpCommandName> = QmpCommandMap[C]["returns"];

export interface QmpExecuteOptions {
  /** Default: the client's `commandTimeoutMs`. `Infinity` waits for ever. */
  timeoutMs?: number;
}

/** True when a command can be sent without arguments: it takes none, or all of them are optional. */
type ArgsOptional<A> = A extends NoArgs ? true : object extends A ? true : false;

/** `execute`'s parameters after the command name: arguments may be left out when none is required. */
export type QmpExecuteRest<C extends QmpCommandName> =
  ArgsOptional<QmpArgs<C>> extends true ? [args?: QmpArgs<C> | undefined, options?: QmpExecuteOptions] : [args: QmpArgs<C>, options?: QmpExecuteOptions];
