import { join } from "node:path";
import { instancesDir, snapvmHome } from "./home.ts";
import type { FailedStateId, InstanceName, SnapshotTag } from "./names.ts";

/**
 * Every file in an instance directory, named once. docs/internals.md lists them with their writers;
 * change both together.
 */
export interface InstancePaths {
  dir: string;
  config: string;
  /** A link to the top layer of the disk chain in disksDir. */
  disk: string;
  /** Frozen disk layers (qcow2), each the backing file of the layer above it. */
  disksDir: string;
  memory: string;
  agentLock: string;
  agentSocket: string;
  agentLog: string;
  qmpSocket: string;
  guestSocket: string;
  /** qemu-guest-agent's virtio-serial channel (org.qemu.guest_agent.0), for cloud images that run it. */
  qgaSocket: string;
  consoleSocket: string;
  consoleLog: string;
  events: string;
  status: string;
  /** Config, argv and cloud-init data the running VM booted with; a restore reuses them. */
  bootDir: string;
  bootConfig: string;
  bootLaunch: string;
  cidataIso: string;
  /** The instance's SSH key pair (cloud images): 0700, the private key 0600. */
  sshDir: string;
  sshKey: string;
  sshPublicKey: string;
  /** The suspend state (a directory, complete only when renamed into place). */
  suspendDir: string;
  /**
   * Written in suspendDir just before a restore resumes the guest: from then on the guest runs on the
   * RAM file and the disk, and the state no longer matches them (it is kept, never restored again).
   */
  suspendResumed: string;
  /** Where states that failed to restore are moved, one subdirectory each. */
  failedStatesDir: string;
  snapshotsDir: string;
  /** Boot files (kernel, initrd, cidata ISO) an imported bundle brought, which its snapshot's launch names. */
  importedDir: string;
  /** Where an imported bundle came from (URL, ETag, size): `fork s3://…` finds an earlier import by it. */
  importedFrom: string;
  /** Set on a fork: the instance and snapshot it was forked from, which it depends on. */
  origin: string;
  /** Present while a migration into this instance is under way: the agent receives instead of booting. */
  incoming: string;
  /** Where the instance came from or went to by host-to-host migration, with times (instance/migrate/record.ts). */
  migration: string;
}

/** In a state directory: a restore resumed the guest on this state (InstancePaths.suspendResumed). */
const RESUMED_MARKER = "RESUMED";

/** Only a parsed InstanceName is accepted, so no caller can build a path outside instances/. */
export function instancePaths(name: InstanceName, home = snapvmHome()): InstancePaths {
  return instanceDirPaths(join(instancesDir(home), name));
}

/**
 * The same layout under any directory: a new instance is built in a hidden temp sibling
 * (newInstanceTempDir) with the final layout, then renamed into place.
 */
export function instanceDirPaths(dir: string): InstancePaths {
  const bootDir = join(dir, "boot");
  return {
    dir,
    config: join(dir, "snapvm.yaml"),
    disk: join(dir, "disk.qcow2"),
    disksDir: join(dir, "disks"),
    memory: join(dir, STATE_FILE_NAMES.memory),
    agentLock: join(dir, "agent.lock"),
    agentSocket: join(dir, "agent.sock"),
    agentLog: join(dir, "agent.log"),
    qmpSocket: join(dir, "qmp.sock"),
    guestSocket: join(dir, "guest.sock"),
    qgaSocket: join(dir, "qga.sock"),
    consoleSocket: join(dir, "console.sock"),
    consoleLog: join(dir, "console.log"),
    events: join(dir, "events.jsonl"),
    status: join(dir, "status.json"),
    bootDir,
    bootConfig: join(bootDir, "config.json"),
    bootLaunch: join(bootDir, "launch.json"),
    cidataIso: join(bootDir, "cidata.iso"),
    sshDir: join(dir, "ssh"),
    sshKey: join(dir, "ssh", "id_ed25519"),
    sshPublicKey: join(dir, "ssh", "id_ed25519.pub"),
    suspendDir: join(dir, "suspend"),
    suspendResumed: join(dir, "suspend", RESUMED_MARKER),
    failedStatesDir: join(dir, "failed-states"),
    snapshotsDir: join(dir, "snapshots"),
    importedDir: join(dir, "imported"),
    importedFrom: join(dir, "imported", "bundle.json"),
    origin: join(dir, "origin.json"),
    incoming: join(dir, "incoming.json"),
    migration: join(dir, "migration.json"),
  };
}

/**
 * Where a new instance directory is built before its rename: a dot-name, which `list` skips, unique
 * to this process and call (parallel forks build side by side).
 */
export function newInstanceTempDir(name: string, unique: string, home = snapvmHome()): string {
  return join(instancesDir(home), `.${name}.tmp-${process.pid}-${unique}`);
}

/**
 * Where `delete` renames an instance directory before removing it: the instance is gone at once, and a
 * dead deleter's leftover is removed by the crash hygiene (its writer's pid ends the name).
 */
export function instanceDeleteDir(name: InstanceName, home = snapvmHome(), pid = process.pid): string {
  return join(instancesDir(home), `.${name}.delete-${pid}`);
}

/** The per-instance sockets and console log a launch spec names (config/launch-spec.ts InstanceSockets). */
export function instanceSockets(paths: InstancePaths): {
  qmpSocket: string;
  guestSocket: string;
  qgaSocket: string;
  consoleSocket: string;
  consoleLog: string;
} {
  return {
    qmpSocket: paths.qmpSocket,
    guestSocket: paths.guestSocket,
    qgaSocket: paths.qgaSocket,
    consoleSocket: paths.consoleSocket,
    consoleLog: paths.consoleLog,
  };
}

/** The manifest of a saved state directory (suspend/, a snapshot, a failed state). */
export const MANIFEST_NAME = "manifest.json";

/** The files of a saved state directory, by the names its manifest lists them under. */
export const STATE_FILE_NAMES = {
  /** A sparse RAM file a restore maps (file-backed RAM). */
  memory: "memory.ram",
  /** Device state only (x-ignore-shared): the RAM is the memory file. */
  deviceState: "devices.state",
  /** A whole migration stream, RAM included (anonymous RAM, an offload). */
  memoryStream: "memory.state",
} as const;

/** The instance's own RAM file as a suspend state's manifest names it (relative to suspend/). */
export const LIVE_MEMORY_REF = `../${STATE_FILE_NAMES.memory}`;

/** Held (by pid, see store/lock.ts) while a process compresses or decompresses a state directory. */
export const COMPRESS_LOCK_NAME = ".compress.lock";

/** A state file's name once compressed (zstd). */
export function compressedName(name: string): string {
  return `${name}.zst`;
}

/**
 * Hidden name a state file is written under before it is renamed into place. Any such file found while
 * holding the compress lock is a leftover of a crash (nobody else writes in a committed state directory).
 */
export function partialName(name: string, pid = process.pid): string {
  return `.${name}.tmp-${pid}`;
}

/** Whether a directory entry is a partialName. */
export function isPartialName(entry: string): boolean {
  return /^\..+\.tmp-\d+$/.test(entry);
}

/** Where a suspend state is written before its rename to suspend/ (crash hygiene removes a dead writer's). */
export function suspendTempDir(instance: InstancePaths, pid = process.pid): string {
  return `${instance.suspendDir}.tmp-${pid}`;
}

/** Where a snapshot is written before its rename into snapshots/TAG (a dot-name: lists skip it). */
export function snapshotTempDir(instance: InstancePaths, tag: SnapshotTag, pid = process.pid): string {
  return join(instance.snapshotsDir, `.${tag}.tmp-${pid}`);
}

export interface SnapshotPaths {
  dir: string;
  manifest: string;
  memory: string;
  deviceState: string;
  memoryStream: string;
}

/** A snapshot's directory; the disk layer it names lives in the instance's disks/. */
export function snapshotPaths(instance: InstancePaths, tag: SnapshotTag): SnapshotPaths {
  return stateDirPaths(join(instance.snapshotsDir, tag));
}

/** The files of any saved state directory (suspend/, a snapshot, a failed state): the same names in each. */
export function stateDirPaths(dir: string): SnapshotPaths {
  return {
    dir,
    manifest: join(dir, MANIFEST_NAME),
    memory: join(dir, STATE_FILE_NAMES.memory),
    deviceState: join(dir, STATE_FILE_NAMES.deviceState),
    memoryStream: join(dir, STATE_FILE_NAMES.memoryStream),
  };
}

/**
 * A state kept aside under failed-states/ (it failed to restore): a state directory (the same names,
 * plus the instance's RAM file it took along), a REASON for people and ASIDE.json for snapvm
 * (instance/suspend/failed-states.ts). Its id is the time it was moved aside.
 */
export interface FailedStatePaths extends AsideStatePaths {
  id: FailedStateId;
}

/** The files of a state directory that is, or was, kept aside (in failed-states/, or put back as suspend/). */
export interface AsideStatePaths extends SnapshotPaths {
  reason: string;
  facts: string;
  /** The suspend state's RESUMED marker, moved along: the guest ran on it, it is never restored again. */
  resumed: string;
}

export function asideStatePaths(dir: string): AsideStatePaths {
  return { ...stateDirPaths(dir), reason: join(dir, "REASON"), facts: join(dir, "ASIDE.json"), resumed: join(dir, RESUMED_MARKER) };
}

export function failedStatePaths(instance: InstancePaths, id: FailedStateId): FailedStatePaths {
  return { ...asideStatePaths(join(instance.failedStatesDir, id)), id };
}

/** The id of a state moved aside at `at`: its ISO time, with ':' (awkward in file names) as '-'. */
export function newFailedStateId(at: Date): FailedStateId {
  return at.toISOString().replaceAll(":", "-") as FailedStateId;
}

/** The new link to a disk layer, renamed over `disk.qcow2` (atomic); a dead writer's is removed by the crash hygiene. */
export function diskLinkTempPath(instance: InstancePaths, pid = process.pid): string {
  return `${instance.disk}.link-${pid}`;
}

export function diskLayerPath(instance: InstancePaths, layer: string): string {
  return join(instance.disksDir, `${layer}.qcow2`);
}

/**
 * Where a destination keeps a migrating guest's RAM while post-copy pulls its pages: tmpfs, as QEMU's
 * post-copy refuses a RAM file on ext4 (DESIGN.md §6). The instance's memory.ram is a link to it until
 * the guest's RAM is moved back (instance/migrate/settle-ram.ts).
 */
export function postcopyRamFile(name: InstanceName, unique: string): string {
  return join("/dev/shm", `snapvm-${name}-${unique}.ram`);
}

/** Unix socket paths are limited to 107 bytes on Linux; QEMU fails obscurely past it. */
export const UNIX_SOCKET_PATH_MAX = 107;
