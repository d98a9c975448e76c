import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { SCRATCH_NAMES, scratchDirPrefix } from "../../paths/index.ts";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { StreamSnapshotResponse } from "../../api/schemas.ts";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { STATE_FILE_NAMES, instancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { buildManifest } from "../../snapshot/build-manifest.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { agentClient } from "../access/agent-client.ts";
import { readPinnedLaunch } from "../boot/pinned-boot.ts";
import { activeLayer, layerIdOf } from "../disk/layers.ts";
import { readoptIfOrphaned } from "../lifecycle/readopt.ts";
import { describeEndpoint, preflightSink, type Endpoint } from "./endpoints.ts";
import type { ExportOptions } from "./export.ts";
import { sendBundle } from "./send.ts";
import { bundleManifest, diskChainSources, launchFileSources } from "./sources.ts";
import type { BundleSource } from "../../bundle/write.ts";

/** The export's options: recipients, zstd level, S3 endpoint, progress, Ctrl-C. */
export type OffloadOptions = ExportOptions;

export interface OffloadResult {
  instance: string;
  tag: string;
  to: string;
  encrypted: boolean;
  /** From `stop` to `cont`: how long the guest was frozen for the switch-over. */
  pauseMs: number;
  /** The disk layer that froze (kept in this instance's chain; the bundle carries a copy). */
  diskLayer: string;
  /** The migration stream's length (RAM as pre-copy sent it, re-sent dirty pages included, plus device state). */
  streamBytes: number;
  bundleBytes: number;
  dataBytes: number;
  sentBytes: number;
  totalMs: number;
  megabytesPerSecond: number;
}

/**
 * One connection, from the VMM: its bytes are the stream; a second connection is refused. The
 * returned function drops it, which makes the VMM's migration fail at once (and resume the guest).
 */
function acceptOne(server: Server, into: PassThrough): () => void {
  let connection: Socket | undefined;
  let dropped = false;
  server.on("connection", (socket: Socket) => {
    if (connection !== undefined || dropped) {
      socket.destroy();
      return;
    }
    connection = socket;
    socket.on("error", (error) => into.destroy(error));
    socket.pipe(into);
  });
  return () => {
    // A VMM that connects after this (the transfer failed before it began) is refused at once too.
    dropped = true;
    server.close();
    connection?.destroy();
  };
}

/**
 * `snapvm snapshot create NAME TAG --to DEST`: a live offload with no local copy. This process plays
 * Cloud Hypervisor's offload daemon: it listens on a unix socket, asks the instance's agent to stream
 * the running guest's state there (a pre-copy migration: the guest pauses only for the last dirty
 * pages and the disk switch, DESIGN.md §6), and turns what arrives into a bundle on the fly — 4 MiB
 * zstd frames, age-encrypted with recipients — sent to DEST. Then the disk layer that froze at the
 * switch-over and the layers under it follow, read from the instance's disks/ (they no longer change).
 * Locally only the new top layer is written; the bytes in flight are bounded by the stream buffers.
 * Any failure of any leg (the sink, the agent, QEMU, Ctrl-C) aborts the destination and leaves the
 * guest running: the VMM resumes it when its migration fails, and a dead agent's QEMU is re-adopted.
 */
export async function offloadSnapshot(name: InstanceName, tag: SnapshotTag, endpoint: Endpoint, options: OffloadOptions = {}): Promise<OffloadResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const { current } = await readoptIfOrphaned(name, options.home, await inspectInstance(name, options.home));
  if (current.agentPid === undefined || current.state !== "running") {
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is ${current.state}; a live offload needs it running`, {
      hint: `Start it with \`snapvm start ${name}\`, or take a snapshot and export it: \`snapvm snapshot create ${name} ${tag}\` then \`snapvm snapshot export ${name} ${tag} --to ${describeEndpoint(endpoint)}\`.`,
      details: { instance: name, state: current.state },
    });
  }
  if (!driver.capabilities.stateOffload) throw new SnapvmError(ErrorCode.InvalidArgument, `the ${driver.name} driver cannot stream a running guest's state`);
  const paths = instancePaths(name, options.home);
  await preflightSink(endpoint, options);
  const launch = await readPinnedLaunch(paths);
  if (launch.spec.memoryBacking !== "file") {
    throw new SnapvmError(ErrorCode.NotSupported, `instance "${name}" keeps its RAM anonymous; a live offload loads the stream into a RAM file on import`, {
      hint: `Set memory.backing: file (the default) and restart it, or take a snapshot and export it.`,
    });
  }
  const frozen = await activeLayer(paths);
  // Its length is known at its end: the estimate is the guest's RAM (zero pages travel as a flag each).
  const streamFile = {
    name: STATE_FILE_NAMES.memoryStream,
    role: "memory-stream",
    sizeBytes: launch.spec.memoryBytes,
    allocatedBytes: launch.spec.memoryBytes,
  } as const;
  const state = buildManifest({
    kind: "snapshot",
    launch,
    files: [streamFile],
    pauseMs: 0, // the trailer's final.pauseMs replaces it on import
    snapshot: { tag, diskLayer: layerIdOf(frozen), hasMemory: true, live: true, memoryCopy: "precopy" },
  });
  const stream = new PassThrough({ highWaterMark: 8 * 2 ** 20 });
  // Boot files first: an import starts the converting QEMU with them and feeds it the stream as it arrives.
  // The disk chain last: its top layer takes the guest's writes until the switch-over.
  const sources: BundleSource[] = [
    ...(await launchFileSources(paths, launch.spec)),
    { entry: { ...streamFile, streamed: true }, stream },
    ...(await diskChainSources(frozen, true)),
  ];
  const manifest = await bundleManifest(paths, { instance: name, tag }, state, sources);

  // The socket in a short directory of its own: unix socket paths are capped at 107 bytes.
  const dir = await mkdtemp(scratchDirPrefix("offload"));
  const socketPath = join(dir, SCRATCH_NAMES.offloadStream);
  const server = createServer();
  const dropConnection = acceptOne(server, stream);
  let agentCall: Promise<StreamSnapshotResponse> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, resolve);
    });
    progress(`streaming ${name} (running) to ${describeEndpoint(endpoint)}`);
    agentCall = agentClient(name, options.home).streamSnapshot({ tag, socket: socketPath, diskLayer: layerIdOf(frozen) });
    // The agent's failure ends the stream with its reason; its success waits for the trailer.
    agentCall.catch((error: unknown) => {
      stream.destroy(error instanceof Error ? error : new Error(String(error)));
    });
    const call = agentCall;
    const figures = await sendBundle(manifest, sources, endpoint, {
      ...options,
      onData: (bytes) => {
        progress(`sent ${Math.round(bytes / 2 ** 20)} MiB`);
      },
      final: async () => ({ pauseMs: (await call).pauseMs }),
    });
    const answer = await call;
    const totalMs = performance.now() - started;
    return {
      instance: name,
      tag,
      to: describeEndpoint(endpoint),
      encrypted: (options.recipients ?? []).length > 0,
      pauseMs: answer.pauseMs,
      diskLayer: answer.diskLayer,
      streamBytes: figures.files.find((f) => f.name === STATE_FILE_NAMES.memoryStream)?.sizeBytes ?? 0,
      bundleBytes: figures.bytes,
      dataBytes: figures.dataBytes,
      sentBytes: figures.sentBytes,
      totalMs,
      megabytesPerSecond: figures.dataBytes / 2 ** 20 / (totalMs / 1000),
    };
  } catch (error) {
    // Dropping the connection makes the VMM's migration fail, which resumes the guest; the agent reports it.
    stream.destroy();
    dropConnection();
    // Returns once the guest runs again (or the agent is gone: its QEMU resumed itself and is re-adopted later).
    await agentCall?.catch(() => undefined);
    throw error;
  } finally {
    if (server.listening) server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
