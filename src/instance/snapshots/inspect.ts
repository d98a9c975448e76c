import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import { instancePaths, snapshotPaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import type { StateFile, StateManifest } from "../../snapshot/manifest.ts";
import { readManifest } from "../../snapshot/read-manifest.ts";
import { DEFAULT_LIMITS, inspectStreamFile, type StreamReport } from "../../snapshot/stream/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { freeSpaceBound, withRawStream, type StreamCompression } from "../../snapshot/stream-compression.ts";

/** Where an inspected stream came from. */
export type InspectedOrigin =
  { kind: "snapshot"; instance: string; tag: string } | { kind: "state-dir"; dir: string; stateKind: StateManifest["kind"] } | { kind: "file" };

/** What `snapshot inspect` and `inspect-state` return: plain data, printed by the CLI. */
export interface StateInspection {
  /** The stream file that was decoded (as stored; a compressed one was decoded from a temp copy). */
  file: string;
  origin: InspectedOrigin;
  /** The file's role in its manifest, when it belongs to a saved state. */
  role?: StateFile["role"];
  compression: StreamCompression;
  report: StreamReport;
}

/** The stream a saved state holds: its device state (file-backed RAM) or its whole-RAM stream. */
function streamFileOf(manifest: StateManifest, dir: string, label: string): { path: string; role: StateFile["role"] } {
  const file = manifest.files.find((f) => f.role === "device-state") ?? manifest.files.find((f) => f.role === "memory-stream");
  if (file === undefined) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `${label} holds no QEMU stream: it is a disk-only snapshot of a shut-down instance`, {
      hint: "Only snapshots with memory (of a running or suspended instance) have device state to inspect.",
      details: { dir },
    });
  }
  return { path: resolve(dir, file.name), role: file.role };
}

/**
 * Decodes a stream file. A stream the user names may be a whole-RAM stream (the gist's recipe), so
 * the byte cap grows to the file's size: the decoder reads through a 64 KiB window, so memory stays
 * flat and only time grows with the file. States snapvm wrote keep the default cap.
 */
async function decode(path: string, wholeFile: boolean): Promise<{ compression: StreamCompression; report: StreamReport }> {
  const temp = tmpdir();
  return withRawStream(
    path,
    temp,
    async (raw, compression) => {
      const size = (await stat(raw)).size;
      const maxBytes = wholeFile || compression !== "none" ? Math.max(DEFAULT_LIMITS.maxBytes, size) : DEFAULT_LIMITS.maxBytes;
      const report = await inspectStreamFile(raw, { maxBytes, limits: { maxSections: wholeFile ? 1_000_000 : DEFAULT_LIMITS.maxSections } }).catch(
        (error: unknown) => {
          throw raw === path ? error : renamed(error, raw, path);
        },
      );
      return { compression, report };
    },
    await freeSpaceBound(temp),
  );
}

/** Errors about the temp decompressed copy name the file the user gave instead. */
function renamed(error: unknown, raw: string, original: string): unknown {
  if (!(error instanceof SnapvmError)) return error;
  return new SnapvmError(error.code, `${error.message.replaceAll(raw, original)} (after decompressing)`, {
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    cause: error,
    details: { ...error.details, path: original },
  });
}

/** `snapvm snapshot inspect NAME TAG`: the snapshot's device-state (or memory) stream, decoded. */
export async function inspectSnapshotState(instance: InstanceName, tag: SnapshotTag, home?: string): Promise<StateInspection> {
  await inspectInstance(instance, home);
  const dir = snapshotPaths(instancePaths(instance, home), tag).dir;
  if (!existsSync(dir)) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `instance "${instance}" has no snapshot "${tag}"`, {
      hint: `List its snapshots with \`snapvm snapshot list ${instance}\`.`,
      details: { instance, tag },
    });
  }
  const { path, role } = streamFileOf(await readManifest(dir), dir, `snapshot ${instance}@${tag}`);
  return { file: path, origin: { kind: "snapshot", instance, tag }, role, ...(await decode(path, false)) };
}

/**
 * `snapvm inspect-state PATH`: any stream file (raw, gzip or zstd), or a state directory (an
 * instance's suspend/, a snapshot's directory), whose manifest names the stream.
 */
export async function inspectStatePath(path: string): Promise<StateInspection> {
  const absolute = resolve(path);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(absolute)).isDirectory();
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error;
    throw new SnapvmError(ErrorCode.InvalidArgument, `${absolute} does not exist`, {
      hint: "Give a migration stream file or a state directory.",
      details: { path: absolute },
    });
  }
  if (!isDirectory) return { file: absolute, origin: { kind: "file" }, ...(await decode(absolute, true)) };
  const manifest = await readManifest(absolute);
  const { path: file, role } = streamFileOf(manifest, absolute, absolute);
  return { file, origin: { kind: "state-dir", dir: absolute, stateKind: manifest.kind }, role, ...(await decode(file, false)) };
}
