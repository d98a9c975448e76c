import { mkdtemp, rm, stat } from "node:fs/promises";
import type { Socket } from "node:net";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SCRATCH_NAMES, scratchDirPrefix } from "../../paths/index.ts";
import { isSnapvmError } from "../../errors/index.ts";
import { ConnectTimeoutError, connectUnixWithRetry } from "../../util/connect-unix.ts";
import type { BundleFile, BundleManifest } from "../../bundle/format.ts";
import { relocateSockets, type LaunchSpec } from "../../config/launch-spec.ts";
import { driver } from "../../driver/index.ts";
import { instanceDirPaths, instanceSockets, stateDirPaths } from "../../paths/index.ts";
import type { StateFile } from "../../snapshot/manifest.ts";
import { describeStateFiles } from "../../snapshot/write.ts";
import { digHoles } from "../../util/dig-holes.ts";

export interface LoadedStream {
  files: StateFile[];
  notes: string[];
  loadMs: number;
}

/**
 * A live offload's bundle carries the guest's state as one migration stream (`memory.state`): it is
 * loaded into a frozen QEMU whose RAM is the snapshot's own `memory.ram`, which then saves the device
 * state alone, so the imported snapshot restores and forks in O(device state) like any other
 * (DESIGN.md §3a, the path import-state takes). The converting QEMU gets a blank scratch disk of the
 * same size: it never runs the guest, and the stream holds no disk data. The stream is removed after.
 */
export async function loadStreamIntoSnapshot(spec: LaunchSpec, tagDir: string, diskVirtualSize: number): Promise<LoadedStream> {
  const files = stateDirPaths(tagDir);
  const scratchDir = await mkdtemp(scratchDirPrefix("import"));
  try {
    const scratch = instanceDirPaths(scratchDir);
    await driver.disks.create(scratch.disk, diskVirtualSize);
    const figures = await driver.state.convertStream({
      spec: relocateSockets({ ...spec, memoryBacking: "file", memoryPath: files.memory, disk: scratch.disk, ports: [] }, instanceSockets(scratch)),
      rawStream: files.memoryStream,
      streamBytes: (await stat(files.memoryStream)).size,
      layout: { mappedRam: false },
      deviceStateFile: files.deviceState,
    });
    const notes: string[] = [];
    await digHoles(files.memory, notes);
    await rm(files.memoryStream);
    return {
      files: await describeStateFiles(tagDir, [
        { name: basename(files.memory), role: "memory" },
        { name: basename(files.deviceState), role: "device-state" },
      ]),
      notes,
      loadMs: figures.loadMs,
    };
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/** How long the converting QEMU may take to start and listen (TCG on a loaded host: seconds). */
const LISTEN_TIMEOUT_MS = 120_000;

/** Connects once QEMU listens; gives up as soon as the conversion has ended (QEMU failed to start). */
async function connectWhenListening(path: string, converting: { ended: boolean }): Promise<Socket> {
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  for (;;) {
    try {
      return await connectUnixWithRetry(path, 0);
    } catch (error) {
      if (!(error instanceof ConnectTimeoutError) || converting.ended || Date.now() >= deadline) throw error;
      await sleep(20);
    }
  }
}

/** Writes `bytes` and resolves once the socket is done with them (the caller reuses the buffer). */
function writeAll(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => {
      if (error === undefined || error === null) resolve();
      else reject(error);
    });
  });
}

/**
 * loadStreamIntoSnapshot with the stream fed straight from the bundle: the converting QEMU listens on a
 * unix socket and `feed` sends it the stream as it is read, so the stream is never written to disk (it
 * was written, fsynced and read back before: an offload import took 1.5–3× an export's). Fails with the
 * feed's error when it is the bundle's (damaged, truncated), else with QEMU's.
 */
export async function streamIntoSnapshot(
  spec: LaunchSpec,
  tagDir: string,
  diskVirtualSize: number,
  streamBytesEstimate: number,
  feed: (send: (bytes: Buffer) => Promise<void>) => Promise<void>,
): Promise<LoadedStream> {
  const files = stateDirPaths(tagDir);
  const scratchDir = await mkdtemp(scratchDirPrefix("import"));
  let socket: Socket | undefined;
  try {
    const scratch = instanceDirPaths(scratchDir);
    await driver.disks.create(scratch.disk, diskVirtualSize);
    const socketPath = join(scratchDir, SCRATCH_NAMES.importStream);
    const state = { ended: false };
    const converting = driver.state
      .convertStream({
        spec: relocateSockets({ ...spec, memoryBacking: "file", memoryPath: files.memory, disk: scratch.disk, ports: [] }, instanceSockets(scratch)),
        rawStream: socketPath,
        fromSocket: true,
        streamBytes: streamBytesEstimate,
        layout: { mappedRam: false },
        deviceStateFile: files.deviceState,
      })
      .finally(() => {
        state.ended = true;
        socket?.destroy(); // a QEMU that failed mid-stream: the feed's pending write fails now
      });
    converting.catch(() => undefined); // awaited below on every path
    try {
      const connected = await connectWhenListening(socketPath, state);
      socket = connected;
      connected.on("error", () => undefined); // a write's callback gets the error
      await feed((bytes) => writeAll(connected, bytes));
      connected.end(); // QEMU ends its load at the stream's own end marker; it may close first
    } catch (error) {
      socket?.destroy(); // QEMU sees the stream end early and fails its load
      const qemu = await converting.then(
        () => undefined,
        (failure: unknown) => failure,
      );
      throw isSnapvmError(error) || qemu === undefined ? error : qemu;
    }
    const figures = await converting;
    const notes: string[] = [];
    await digHoles(files.memory, notes);
    return {
      files: await describeStateFiles(tagDir, [
        { name: basename(files.memory), role: "memory" },
        { name: basename(files.deviceState), role: "device-state" },
      ]),
      notes,
      loadMs: figures.loadMs,
    };
  } finally {
    socket?.destroy();
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/** Files the converting QEMU opens (its spec's boot files): they must be in place before it starts. */
const LAUNCH_ROLES: ReadonlySet<string> = new Set(["kernel", "initrd", "cidata"]);

/**
 * A live offload's stream that can be fed to the converting QEMU as it is read: every boot file comes before
 * it in the bundle (offloads since this order; earlier ones put the stream first and load from a file).
 */
export function streamableLiveStream(manifest: BundleManifest): BundleFile | undefined {
  const at = manifest.files.findIndex((f) => f.role === "memory-stream" && f.streamed === true);
  if (at < 0) return undefined;
  return manifest.files.slice(at + 1).some((f) => LAUNCH_ROLES.has(f.role)) ? undefined : manifest.files[at];
}

/** A live offload's bundle: its state is a stream to load on import (not a snapshot's own files). */
export function carriesLiveStream(manifest: BundleManifest): boolean {
  return manifest.files.some((f) => f.role === "memory-stream" && f.streamed === true);
}
