import { join } from "node:path";
import { instancesDir, snapvmHome } from "./home.ts";
import type { InstanceName, SnapshotTag } from "./names.ts";

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
  agentPid: string;
  agentLock: string;
  agentSocket: string;
  agentLog: string;
  qmpSocket: string;
  guestSocket: string;
  consoleSocket: string;
  consoleLog: string;
  events: string;
  status: string;
  /** Config, argv and cloud-init data the running VM booted with; a restore reuses them. */
  bootDir: string;
  bootConfig: string;
  bootLaunch: string;
  cidataIso: string;
  sshKey: string;
  /** The suspend state (a directory, complete only when renamed into place). */
  suspendDir: string;
  /** Where states that failed to restore are moved, one subdirectory each. */
  failedStatesDir: string;
  snapshotsDir: string;
  /** Set on a fork: the instance and snapshot it was forked from, which it depends on. */
  origin: string;
}

/** Only a parsed InstanceName is accepted, so no caller can build a path outside instances/. */
export function instancePaths(name: InstanceName, home = snapvmHome()): InstancePaths {
  return instanceDirPaths(join(instancesDir(home), name));
}

/**
 * The same files in a directory the caller chose, e.g. a hidden temp directory under instances/ that
 * is filled and then renamed to its parsed name. Never pass it anything derived from user input unparsed.
 */
export function instanceDirPaths(dir: string): InstancePaths {
  const bootDir = join(dir, "boot");
  return {
    dir,
    config: join(dir, "snapvm.yaml"),
    disk: join(dir, "disk.qcow2"),
    disksDir: join(dir, "disks"),
    memory: join(dir, "memory.ram"),
    agentPid: join(dir, "agent.pid"),
    agentLock: join(dir, "agent.lock"),
    agentSocket: join(dir, "agent.sock"),
    agentLog: join(dir, "agent.log"),
    qmpSocket: join(dir, "qmp.sock"),
    guestSocket: join(dir, "guest.sock"),
    consoleSocket: join(dir, "console.sock"),
    consoleLog: join(dir, "console.log"),
    events: join(dir, "events.jsonl"),
    status: join(dir, "status.json"),
    bootDir,
    bootConfig: join(bootDir, "config.json"),
    bootLaunch: join(bootDir, "launch.json"),
    cidataIso: join(bootDir, "cidata.iso"),
    sshKey: join(dir, "ssh", "id_ed25519"),
    suspendDir: join(dir, "suspend"),
    failedStatesDir: join(dir, "failed-states"),
    snapshotsDir: join(dir, "snapshots"),
    origin: join(dir, "origin.json"),
  };
}

/** The per-instance sockets and console log a launch spec names. */
export function instanceSockets(paths: InstancePaths): { qmpSocket: string; guestSocket: string; consoleSocket: string; consoleLog: string } {
  return { qmpSocket: paths.qmpSocket, guestSocket: paths.guestSocket, consoleSocket: paths.consoleSocket, consoleLog: paths.consoleLog };
}

/** The manifest of a saved state directory (suspend/, a snapshot, a failed state). */
export const MANIFEST_NAME = "manifest.json";

export interface SnapshotPaths {
  dir: string;
  manifest: string;
  memory: string;
  deviceState: string;
  memoryStream: string;
}

/** A snapshot's directory; the disk layer it names lives in the instance's disks/. */
export function snapshotPaths(instance: InstancePaths, tag: SnapshotTag): SnapshotPaths {
  const dir = join(instance.snapshotsDir, tag);
  return {
    dir,
    manifest: join(dir, MANIFEST_NAME),
    memory: join(dir, "memory.ram"),
    deviceState: join(dir, "devices.state"),
    memoryStream: join(dir, "memory.state"),
  };
}

export function diskLayerPath(instance: InstancePaths, layer: string): string {
  return join(instance.disksDir, `${layer}.qcow2`);
}

/** Unix socket paths are limited to 107 bytes on Linux; QEMU fails obscurely past it. */
export const UNIX_SOCKET_PATH_MAX = 107;
