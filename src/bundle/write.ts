import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { dataRanges } from "../util/data-ranges.ts";
import { FramePool, type CompressedFrame } from "./frame-pool.ts";
import {
  BUNDLE_MAGIC,
  FRAME_BYTES,
  RECORD_HEAD_BYTES,
  RecordKind,
  type BundleFile,
  type BundleManifest,
  type FileEnd,
  type FrameEntry,
  type Trailer,
  type TrailerFinal,
} from "./format.ts";

/**
 * One file of the bundle: read from a path on this host (of the length the entry gives, or, when the
 * entry is `streamed`, of the length the file has when its turn comes), or taken from a byte stream as it
 * arrives (a live offload's migration stream; the entry is `streamed`).
 */
export type BundleSource = { entry: BundleFile; path: string } | { entry: BundleFile; stream: AsyncIterable<Buffer> };

export interface WriteFigures {
  /** Bytes of the bundle (before any encryption). */
  bytes: number;
  /** Raw bytes of the frames sent (the files' data; all-zero frames are not sent). */
  dataBytes: number;
  frames: number;
  /** Each file's length and data bytes as sent (a streamed file's length is known only here). */
  files: { name: string; sizeBytes: number; dataBytes: number }[];
}

export interface WriteOptions {
  /** zstd level, 1–19 (default 3). */
  level?: number;
  /** Called after each frame with the raw bytes read so far. */
  onData?: (rawBytesRead: number) => void;
  /** Awaited after the last file, before the trailer: what only the end knows (a live offload's pause). */
  final?: () => Promise<TrailerFinal>;
}

function record(kind: RecordKind, body: Buffer): Buffer[] {
  const head = Buffer.alloc(RECORD_HEAD_BYTES);
  head.write(kind, 0, "latin1");
  head.writeUInt32BE(body.length, 4);
  return [head, body];
}

function jsonRecord(kind: RecordKind, value: unknown): Buffer[] {
  return record(kind, Buffer.from(JSON.stringify(value), "utf8"));
}

const ZERO_FRAME = Buffer.alloc(FRAME_BYTES);

/** One FRAME_BYTES window of a file that holds data; `raw` is a pool buffer, handed on to compress(). */
interface Window {
  offset: number;
  raw: Buffer<ArrayBuffer>;
}

/** Holes read as zeros: a window with no data is not sent (and reading a hole costs no disk I/O). */
function isZero(raw: Buffer): boolean {
  return raw.equals(ZERO_FRAME.subarray(0, raw.length));
}

/** Below this a file is read whole: asking where its data lies costs a process start (~10 ms). */
const MAP_MIN_BYTES = 4 * FRAME_BYTES;

function shorter(path: string, at: number, sizeBytes: number): Error {
  return new Error(`${path} ended at ${at} bytes, before the ${sizeBytes} it had when the export began`);
}

/**
 * The windows of one file that hold a non-zero byte. A window with no data range in it (dataRanges) is a
 * hole and is not even read; every other one is read and checked, holes inside it reading as zeros.
 */
async function* fileWindows(path: string, sizeBytes: number, pool: FramePool): AsyncGenerator<Window> {
  const handle = await open(path, "r");
  try {
    const length = (await handle.stat()).size;
    if (length < sizeBytes) throw shorter(path, length, sizeBytes);
    const ranges = sizeBytes >= MAP_MIN_BYTES ? await dataRanges(path, sizeBytes) : undefined;
    let next = 0;
    for (let offset = 0; offset < sizeBytes; offset += FRAME_BYTES) {
      const want = Math.min(FRAME_BYTES, sizeBytes - offset);
      if (ranges !== undefined) {
        while ((ranges[next]?.[1] ?? Infinity) <= offset) next += 1;
        if ((ranges[next]?.[0] ?? Infinity) >= offset + want) continue;
      }
      const buffer = pool.rawBuffer();
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, offset + got);
        if (bytesRead === 0) throw shorter(path, offset + got, sizeBytes);
        got += bytesRead;
      }
      const raw = buffer.subarray(0, want);
      if (isZero(raw)) pool.releaseRaw(buffer);
      else yield { offset, raw };
    }
  } finally {
    await handle.close();
  }
}

/** The windows of a byte stream, cut into FRAME_BYTES as it arrives; `length` gets its total. */
async function* streamWindows(stream: AsyncIterable<Buffer>, pool: FramePool, length: { bytes: number }): AsyncGenerator<Window> {
  let window = pool.rawBuffer();
  let filled = 0;
  let offset = 0;
  for await (const chunk of stream) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(FRAME_BYTES - filled, chunk.length - at);
      chunk.copy(window, filled, at, at + take);
      filled += take;
      at += take;
      if (filled === FRAME_BYTES) {
        if (isZero(window)) pool.releaseRaw(window);
        else yield { offset, raw: window };
        window = pool.rawBuffer();
        offset += FRAME_BYTES;
        filled = 0;
      }
    }
  }
  const raw = window.subarray(0, filled);
  if (filled > 0 && !isZero(raw)) yield { offset, raw };
  length.bytes = offset + filled;
}

/** A source's windows, and its length once they are all out. */
async function sourceWindows(source: BundleSource, pool: FramePool): Promise<{ windows: AsyncGenerator<Window>; length: { bytes: number } }> {
  if ("stream" in source) {
    const length = { bytes: 0 };
    return { windows: streamWindows(source.stream, pool, length), length };
  }
  // A streamed file on disk (the layer a live offload froze) is read at the length it has now.
  const bytes = source.entry.streamed === true ? (await stat(source.path)).size : source.entry.sizeBytes;
  return { windows: fileWindows(source.path, bytes, pool), length: { bytes } };
}

interface InFlight {
  offset: number;
  length: number;
  frame: Promise<CompressedFrame>;
}

/**
 * The bundle as a byte stream: the manifest first, then each file as data frames only, then the trailer.
 * Frames are compressed and hashed on worker threads (FramePool), a few per worker ahead of the one being
 * sent, and go out in file order; nothing else is buffered, so a bundle of any size streams to a pipe or an
 * upload at the pace its consumer takes. The workers end with the stream, whether it ends or fails.
 */
export function writeBundle(
  manifest: BundleManifest,
  sources: readonly BundleSource[],
  options: WriteOptions = {},
): { stream: Readable; figures: Promise<WriteFigures> } {
  const level = options.level ?? 3;
  let settle: (figures: WriteFigures) => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const figures = new Promise<WriteFigures>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  figures.catch(() => undefined); // the stream's error reaches the caller; this promise must not go unhandled
  const pool = new FramePool();
  // The trailer's digest: every byte but the DATA bodies, which their frame digests cover.
  const whole = createHash("sha256");
  let bytes = 0;
  let dataBytes = 0;
  let frames = 0;
  const files: WriteFigures["files"] = [];
  function* emit(buffers: Buffer[]): Generator<Buffer> {
    for (const buffer of buffers) {
      whole.update(buffer);
      bytes += buffer.length;
      yield buffer;
    }
  }
  async function* generate(): AsyncGenerator<Buffer> {
    yield* emit([BUNDLE_MAGIC]);
    yield* emit(jsonRecord(RecordKind.Manifest, manifest));
    for (const source of sources) {
      yield* emit(jsonRecord(RecordKind.FileStart, { name: source.entry.name }));
      const hash = createHash("sha256");
      const table: FrameEntry[] = [];
      let fileData = 0;
      const inFlight: InFlight[] = [];
      const produced = await sourceWindows(source, pool);
      let windows = true;
      while (windows || inFlight.length > 0) {
        if (windows && inFlight.length < pool.inFlight) {
          const next = await produced.windows.next();
          if (next.done === true) windows = false;
          else inFlight.push({ offset: next.value.offset, length: next.value.raw.length, frame: pool.compress(next.value.offset, next.value.raw, level) });
          continue;
        }
        const sent = inFlight.shift();
        if (sent === undefined) break;
        const { record: data, digest } = await sent.frame;
        hash.update(Buffer.from(digest, "hex"));
        table.push([sent.offset, sent.length, bytes, data.length - RECORD_HEAD_BYTES, digest]);
        whole.update(data.subarray(0, RECORD_HEAD_BYTES));
        bytes += data.length;
        fileData += sent.length;
        frames += 1;
        yield data;
        options.onData?.(dataBytes + fileData);
      }
      dataBytes += fileData;
      files.push({ name: source.entry.name, sizeBytes: produced.length.bytes, dataBytes: fileData });
      const end: FileEnd = { name: source.entry.name, sha256: hash.digest("hex"), dataBytes: fileData, frames: table, sizeBytes: produced.length.bytes };
      yield* emit(jsonRecord(RecordKind.FileEnd, end));
    }
    const final = await options.final?.();
    const trailer: Trailer = { sha256: whole.copy().digest("hex"), files: sources.length, bytes, ...(final === undefined ? {} : { final }) };
    yield* emit(jsonRecord(RecordKind.Trailer, trailer));
    settle({ bytes, dataBytes, frames, files });
  }
  async function* closing(): AsyncGenerator<Buffer> {
    try {
      yield* generate();
    } finally {
      await pool.close();
    }
  }
  const stream = Readable.from(closing(), { objectMode: false });
  stream.once("error", fail);
  // A destroyed stream ends the generator only once its current step settles; the workers go now.
  stream.once("close", () => void pool.close());
  return { stream, figures };
}
