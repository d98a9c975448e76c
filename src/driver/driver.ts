import type { Accel, LaunchSpec } from "../config/launch-spec.ts";
import type { PinnedLaunch } from "../snapshot/launch.ts";
import type { StreamReport } from "../snapshot/stream/index.ts";
import type { GuestExec } from "./guest/guest-exec.ts";

export type { WaitReadyOptions } from "./guest/guest-exec.ts";

/**
 * What snapvm asks of a VMM, as role interfaces plus a capability record (Lima's DriverFeatures,
 * hypeman's hypervisor interface): starting a VMM is separate from controlling a running one, saving
 * and loading state, snapshotting a running one, and handling disk images. Callers in instance/ and
 * agent/ ask `capabilities` and `host` instead of checking which driver they hold; only driver/qemu/
 * knows QEMU. One driver exists today (QEMU).
 */
export interface Driver {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly host: HostFacts;
  readonly launcher: VmmLauncher;
  readonly state: StateTransfer;
  readonly snapshots: LiveSnapshots;
  readonly disks: DiskImages;
  readonly migration: HostMigration;
}

/** What the VMM can do whatever the host. Host-dependent answers are in HostFacts. */
export interface Capabilities {
  /** Suspend and resume are O(device state): guest RAM is a file the saved state maps (x-ignore-shared). */
  readonly lazyRestore: boolean;
  /** A running guest is snapshotted with a pause of milliseconds (reflink, or pre-copy into a receiver). */
  readonly liveSnapshot: boolean;
  /** Forks map a snapshot's RAM file copy-on-write and load its device state. */
  readonly copyOnWriteForks: boolean;
  /** A full-RAM migration stream converts into the lazy layout (import-state). */
  readonly streamImport: boolean;
  /** Post-copy migration between two live VMMs (snapvm migrate --postcopy). */
  readonly postcopy: boolean;
  /** A running guest's whole state streams out through a socket while it runs (live offload). */
  readonly stateOffload: boolean;
}

export type AccelSetting = "auto" | "kvm" | "tcg";

export interface AccelChoice {
  accel: Accel;
  /** Why this accelerator was chosen, shown by `snapvm info`. */
  reason: string;
}

/** Questions about this host, answered by probing it. */
export interface HostFacts {
  /** The accelerator for a setting; `kvm` on a host without usable KVM is an error (E_INVALID_CONFIG). */
  chooseAccel(setting: AccelSetting): Promise<AccelChoice>;
  /** Whether files in `dir` can be reflinked (XFS, btrfs): a live snapshot then reflinks RAM while paused. */
  reflink(dir: string): Promise<boolean>;
  /** The installed VMM's version as a saved state records it ("10.0.2"), without starting a VM. */
  vmmVersion(): Promise<string>;
}

export interface LaunchOptions {
  /** Wait for a state to be loaded instead of booting. */
  incoming?: boolean;
  /** Map the RAM file shared (default) or private (a fork on its template's file: copy-on-write). */
  shareMemory?: boolean;
  /** Never run the guest: a VMM that only receives a state to write it elsewhere. */
  frozen?: boolean;
  onStderrLine?: (line: string) => void;
  /** How long to wait for the VMM's control socket. */
  controlTimeoutMs?: number;
}

/** Starting a VMM. */
export interface VmmLauncher {
  /** Starts the VMM; resolves once it answers on its control socket. On failure nothing is left running. */
  start(spec: LaunchSpec, options?: LaunchOptions): Promise<RunningVm>;
  /**
   * The command line `start` runs for a spec, without the binary. Pure: the same spec gives the same
   * argv. Pinned with every state, so a restore starts the same VMM.
   */
  argv(spec: LaunchSpec, options?: Pick<LaunchOptions, "shareMemory">): string[];
  /** Reads a command line this driver generated back into a spec (import-state); anything else is refused. */
  parseArgv(argv: readonly string[]): SourceLaunch;
  /** Live VMM processes whose control socket is `socket` (one left behind by an agent that died). */
  processesServing(socket: string): Promise<VmmProcess[]>;
  /** Live helper VMMs of an instance (a live snapshot's receiver), with the temp directory of their sockets. */
  helperProcesses(instance: string): Promise<(VmmProcess & { socketDir: string })[]>;
  /**
   * Takes over a VMM that runs but is not our child (its agent died), by its control socket. `exited`
   * resolves once it is gone; not being its parent, the exit status may be unknown.
   */
  adopt(spec: LaunchSpec, process: VmmProcess, options?: { controlTimeoutMs?: number }): Promise<RunningVm>;
}

export interface VmmProcess {
  pid: number;
  /** Its command line without the binary. */
  argv: string[];
}

/** A command line parsed back: the spec regenerates it exactly. */
export interface SourceLaunch {
  spec: LaunchSpec;
  /** The RAM file's share= (a fork maps its template's file share=off); irrelevant for anonymous RAM. */
  shareMemory: boolean;
  /** The arguments as compared: without the binary and the per-run options (incoming, frozen). */
  argv: string[];
}

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The VMM's own last words (stderr), when it had any. */
  stderrTail: string;
  /** One line for a person: how it ended and why. */
  reason: string;
}

/** Controlling a running VMM. */
export interface RunningVm {
  readonly spec: LaunchSpec;
  readonly argv: readonly string[];
  readonly pid: number;
  /** The VMM's version as it reports it, e.g. "10.0.2"; states record it. */
  readonly version: string;
  /** Settles when the process has ended, whatever the reason. */
  readonly exited: Promise<VmExit>;
  /** How commands reach the guest (the built-in agent's channel, or SSH); kept for the VM's life. */
  guest(): Promise<GuestExec>;
  /** Stops the guest's vCPUs; `resume` continues it. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Whether the vCPUs run (false while paused, or loaded and not yet resumed). */
  isRunning(): Promise<boolean>;
  /**
   * Brings a VM left mid-operation by a dead agent back to running: a migration under way is cancelled,
   * a guest paused by a save or snapshot resumed. Returns what was done; rejects when it cannot (broken).
   */
  settle(): Promise<string[]>;
  /**
   * Asks the guest to power off (through its own agent where it answers there, else ACPI); after
   * `timeoutMs`, quits. Resolves, once the VMM has exited, with how it ended.
   */
  powerdown(timeoutMs: number): Promise<"agent" | "acpi" | "quit">;
  /** Ends the VMM at once (no guest shutdown). */
  quit(): Promise<void>;
  kill(): void;
  closeChannels(): void;
}

/**
 * What a saved state holds. `device-state`: the VM owns a shared RAM file, so only device state is
 * written and a restore maps the file (O(device state)). `full-ram`: the whole RAM goes into the state
 * (anonymous RAM, or a fork running copy-on-write on its template's file).
 */
export type StateLayout = "device-state" | "full-ram";

/** How a full-RAM stream was written, so it is loaded the same way. */
export interface StreamLayout {
  /** RAM at fixed offsets (a seekable file), as snapvm's own full-RAM saves write it. */
  mappedRam: boolean;
}

export interface ConvertInput {
  /** The new instance's spec with the converter's own paths: RAM file, disk copy, sockets. */
  spec: LaunchSpec;
  /** The stream's file, or with `fromSocket` a unix socket path QEMU listens on for the stream's one writer. */
  rawStream: string;
  fromSocket?: boolean;
  /** The stream's length, or an estimate when it comes through a socket (it sets the load's timeout). */
  streamBytes: number;
  layout: StreamLayout;
  deviceStateFile: string;
}

export interface ConvertFigures {
  version: string;
  loadMs: number;
  saveMs: number;
}

/** Saving and loading VM state. */
export interface StateTransfer {
  /** What a save of this launch writes. */
  layoutOf(launch: PinnedLaunch): StateLayout;
  /** Settings for a save, applied while the guest still runs so the pause does not wait on them. */
  prepareSave(vm: RunningVm, layout: StateLayout): Promise<void>;
  /** Writes the state of a paused VM to `file` (after prepareSave). The caller fsyncs. */
  save(vm: RunningVm, file: string, layout: StateLayout, timeoutMs: number): Promise<void>;
  /** Saves device state only (the RAM is in a file already), from a paused VM: snapshots, converters. */
  saveDeviceState(vm: RunningVm, file: string, timeoutMs: number): Promise<void>;
  /** Loads a state into a VM started with `incoming`. The VM stays paused: the caller resumes it. */
  load(vm: RunningVm, file: string, layout: StateLayout, timeoutMs: number): Promise<void>;
  /** Checks, before anything is written, that a decoded stream loads into a VM of `memoryBytes`. */
  checkStream(report: StreamReport, memoryBytes: number, file: string): StreamLayout;
  /** Loads a full-RAM stream into a frozen VM whose RAM is the spec's file, then saves device state only. */
  convertStream(input: ConvertInput): Promise<ConvertFigures>;
}

export interface ActiveDisk {
  nodeName: string;
  /** The image file the VMM writes: the top of the chain. */
  file: string;
  virtualSize: number;
}

export interface CaptureTarget {
  /** The snapshot's RAM file, written by the receiving VMM through a shared mapping. */
  memory: string;
  deviceState: string;
}

/** Snapshotting a running VM. */
export interface LiveSnapshots {
  /** The image currently on top of the guest disk's chain. */
  activeDisk(vm: RunningVm): Promise<ActiveDisk>;
  /** Makes `overlay` (made by DiskImages, naming the frozen layer) the new top; constant time. Guest paused. */
  switchDisk(vm: RunningVm, current: ActiveDisk, overlay: string, nodeName: string): Promise<void>;
  /**
   * Copies the running guest's memory into `target` by pre-copy into a frozen receiver: the guest pauses
   * only for the last dirty pages, during which `diskLeg` runs. Returns the pause in ms. On failure the
   * guest is left running and the caller removes the files.
   */
  captureMemory(vm: RunningVm, launch: PinnedLaunch, target: CaptureTarget, diskLeg: () => Promise<void>, timeoutMs: number): Promise<number>;
  /**
   * Streams the running guest's whole state (RAM and devices, as a VMM migration stream) to the unix
   * socket `socketPath`, where a reader listens: the guest runs while RAM goes out and pauses only for
   * the last dirty pages, during which `diskLeg` runs. Returns the pause in ms. On failure (the reader
   * went away, a timeout) the guest is left running.
   */
  streamState(vm: RunningVm, socketPath: string, diskLeg: () => Promise<void>, timeoutMs: number): Promise<number>;
}

export interface ImageFacts {
  virtualSize: number;
  backingFile?: string;
}

/** Disk images (qcow2 chains). */
export interface DiskImages {
  /** A new image of `sizeBytes`, optionally over a read-only backing image. */
  create(path: string, sizeBytes: number, backing?: string): Promise<void>;
  /** An overlay naming `backing` (absolute); with `unsafe`, the backing need not exist yet. */
  createOverlay(path: string, backing: string, sizeBytes: number, unsafe?: boolean): Promise<void>;
  /** Reads an image's header; works while a VMM holds the image. */
  facts(path: string): Promise<ImageFacts>;
  /** Offline merge: `path` stops depending on its backing layer and uses `newBacking` (or none). */
  rebase(path: string, newBacking: string | undefined): Promise<void>;
  /** Header only (unsafe rebase): `path` names `backing` (absolute), whose contents are the same as the old one's. */
  relink(path: string, backing: string): Promise<void>;
  /** Copies an image, flattening its chain; fails if a VMM is still writing it. */
  flattenCopy(source: string, target: string): Promise<void>;
}

/** The unix sockets a host-to-host migration runs through; SSH forwards each between the two hosts. */
export interface MigrationChannels {
  /** The VMM's migration stream (RAM and devices). */
  state: string;
  /** The destination's disk export, to which the source mirrors its writable top layer. */
  disk: string;
}

/** One look at a pre-copy under way. */
export interface MigrationProgress {
  transferredBytes: number;
  remainingBytes: number;
  bytesPerSecond: number;
  /** Guest pages dirtied per second in the last pass, in bytes; 0 before the first pass ends. */
  dirtyBytesPerSecond: number;
  /** The VMM's estimate of the pause if it switched over now. */
  expectedDowntimeMs: number;
}

export interface MigrationSendOptions {
  /** Bytes per second; unlimited when absent. */
  bandwidth?: number;
  /**
   * Switch to post-copy after the first pass: the destination runs the guest and pulls what is still
   * missing, so a busy guest moves with a bounded pause. The destination must have listened with it too.
   */
  postcopy?: boolean;
  /** With postcopy: switch at once instead of after the first pass (a remote lazy fork). */
  postcopyAtOnce?: boolean;
  timeoutMs: number;
  onProgress?: (progress: MigrationProgress) => void;
}

export interface MigrationSent {
  /** Epoch ms at which the source VMM stopped the guest for the switch-over. */
  stoppedAt: number;
  /** RAM bytes sent (the stream's own count). */
  bytes: number;
  /** Disk bytes the mirror copied. */
  diskBytes: number;
  /** Whether the switch-over was to post-copy (asked for, and the first pass ended first). */
  postcopy: boolean;
  /** The pause as the source VMM counts it (its stop to the end of its stream); the destination's start is not in it. */
  vmmDowntimeMs: number;
}

/**
 * Host-to-host live migration (pre-copy): the source sends RAM with x-ignore-shared off (the RAM files
 * on two hosts are different files, DESIGN.md §6) and mirrors the writable top disk layer to the
 * destination's export; both switch at one paused instant.
 */
export interface HostMigration {
  /**
   * Destination, on a VM started `incoming`: serve the disk export and wait for the stream on `channels`.
   * With `postcopy`, the VM's RAM must be on tmpfs, hugetlbfs or memfd (QEMU refuses a file on ext4).
   */
  listen(vm: RunningVm, channels: MigrationChannels, options: { postcopy: boolean }): Promise<void>;
  /**
   * Destination, on a VM started `incoming` and `frozen`: resolves once the whole state arrived. At the
   * switch-over the disk export is closed and the guest resumed; `onRunning` is told then (with the
   * epoch ms the guest resumed at, by the VMM's clock), which under post-copy is long before the last
   * page arrives. A post-copy that broke is recovered
   * on the socket `recoverSocket` names once it names one (QEMU's migrate-recover).
   */
  accept(vm: RunningVm, timeoutMs: number, onRunning: (resumedAt: number) => void, recoverSocket?: () => Promise<string | undefined>): Promise<void>;
  /**
   * Source, after a post-copy broke (the link): sends what the destination still lacks through
   * `channels.state`, where the destination listens for the recovery (accept's `recoverSocket`).
   */
  resume(vm: RunningVm, channels: Pick<MigrationChannels, "state">, timeoutMs: number): Promise<{ bytes: number }>;
  /**
   * Source: mirrors the top disk layer, sends RAM while the guest runs, and at the switch-over (guest
   * paused) finishes the mirror and the stream. On success the guest stays paused here (resume() brings
   * it back if the destination then fails). On failure everything is cancelled and the guest runs.
   */
  send(vm: RunningVm, channels: MigrationChannels, options: MigrationSendOptions): Promise<MigrationSent>;
}
