import { lstat } from "node:fs/promises";
import { isAbsolute, normalize } from "node:path";
import { driver, type RunningVm } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { UNIX_SOCKET_PATH_MAX, type InstancePaths, type SnapshotTag } from "../../paths/index.ts";
import { faultPoint } from "../../util/fault-point.ts";
import { layerIdOf } from "../disk/layers.ts";
import { prepareDiskFreeze, type DiskFreeze } from "./disk-freeze.ts";

export interface StreamRequest {
  tag: SnapshotTag;
  /** A unix socket a reader listens on (the CLI writing the bundle); the VMM connects to it. */
  socket: string;
  /** The layer the reader expects to freeze, named in the bundle's manifest before the stream starts. */
  diskLayer: string;
}

export interface StreamFigures {
  tag: string;
  diskLayer: string;
  /** From `stop` to `cont`: how long the guest was frozen. */
  pauseMs: number;
  totalMs: number;
}

/** A pre-copy at 20 MiB/s at worst (the reader compresses and encrypts as it goes), plus a minute. */
function streamTimeoutMs(memoryBytes: number, floorMs: number): number {
  return Math.max(floorMs, 60_000 + (memoryBytes / (20 * 2 ** 20)) * 1000);
}

/** The socket comes over the API: an absolute, normal path to an existing socket, short enough for the kernel. */
async function checkSocket(path: string): Promise<void> {
  const bad = (why: string): SnapvmError =>
    new SnapvmError(ErrorCode.InvalidArgument, `the stream socket ${JSON.stringify(path.slice(0, 200))} ${why}`, {
      hint: "Give the path of a unix socket that is listening (snapvm snapshot create --to does this itself).",
    });
  if (!isAbsolute(path) || normalize(path) !== path || Buffer.byteLength(path) > UNIX_SOCKET_PATH_MAX) throw bad("is not a short absolute path");
  const facts = await lstat(path).catch(() => undefined);
  if (facts?.isSocket() !== true) throw bad("is not a unix socket");
}

/**
 * The agent's half of a live offload (`snapshot create --to`): the running guest's whole state goes
 * out as a pre-copy migration stream to the reader's socket while the guest runs; it pauses only for
 * the last dirty pages, during which the disk's top layer freezes (that layer is the snapshot's disk,
 * which the reader sends after the stream). Nothing is written locally but the new top layer. On any
 * failure the guest is resumed, and the new layer removed unless the guest already writes to it.
 */
export async function streamLiveSnapshot(vm: RunningVm, paths: InstancePaths, request: StreamRequest, timeoutMs: number): Promise<StreamFigures> {
  const started = performance.now();
  await checkSocket(request.socket);
  let freeze: DiskFreeze | undefined;
  try {
    freeze = await prepareDiskFreeze(vm, paths, request.diskLayer);
    const diskLayer = layerIdOf(freeze.frozen);
    faultPoint("offload:before-stream");
    const pauseMs = await driver.snapshots.streamState(vm, request.socket, freeze.switchLeg, streamTimeoutMs(vm.spec.memoryBytes, timeoutMs));
    return { tag: request.tag, diskLayer, pauseMs, totalMs: performance.now() - started };
  } catch (error) {
    await freeze?.undo();
    if (error instanceof SnapvmError && error.code === ErrorCode.InvalidArgument) throw error;
    throw new SnapvmError(ErrorCode.SaveFailed, `instance "${vm.spec.name}": streaming snapshot "${request.tag}" failed; the guest was resumed`, {
      cause: error,
      details: { instance: vm.spec.name, tag: request.tag, reason: error instanceof Error ? error.message : String(error) },
    });
  }
}
