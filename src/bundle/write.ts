import { createHash, type Hash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { compressFrame } from "./zstd.ts";
import {
  BUNDLE_MAGIC,
  DATA_HEAD_BYTES,
  FRAME_BYTES,
  RecordKind,
  type BundleFile,
  type BundleManifest,
  type FileEnd,
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
  const head = Buffer.alloc(8);
  head.write(kind, 0, "latin1");
  head.writeUInt32BE(body.length, 4);
  return [head, body];
}

function jsonRecord(kind: RecordKind, value: unknown): Buffer[] {
  return record(kind, Buffer.from(JSON.stringify(value), "utf8"));
}

const ZERO_FRAME = Buffer.alloc(FRAME_BYTES);

interface Frame {
  offset: number;
  raw: Buffer;
  frame: Buffer;
}

/** Holes read as zeros: a window with no data is not sent (and reading a hole costs no disk I/O). */
function isZero(raw: Buffer): boolean {
  return raw.equals(ZERO_FRAME.subarray(0, raw.length));
}

/** The frames of one file: each FRAME_BYTES window that holds a non-zero byte, zstd-compressed on its own. */
async function* fileFrames(path: string, sizeBytes: number, level: number): AsyncGenerator<Frame> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(FRAME_BYTES);
    for (let offset = 0; offset < sizeBytes; offset += FRAME_BYTES) {
      const want = Math.min(FRAME_BYTES, sizeBytes - offset);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, offset + got);
        if (bytesRead === 0) throw new Error(`${path} ended at ${offset + got} bytes, before the ${sizeBytes} it had when the export began`);
        got += bytesRead;
      }
      const raw = buffer.subarray(0, want);
      if (!isZero(raw)) yield { offset, raw, frame: compressFrame(raw, level) };
    }
  } finally {
    await handle.close();
  }
}

/** The frames of a byte stream, cut into FRAME_BYTES windows as it arrives; `length` gets its total. */
async function* streamFrames(stream: AsyncIterable<Buffer>, level: number, length: { bytes: number }): AsyncGenerator<Frame> {
  const window = Buffer.allocUnsafe(FRAME_BYTES);
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
        if (!isZero(window)) yield { offset, raw: window, frame: compressFrame(window, level) };
        offset += FRAME_BYTES;
        filled = 0;
      }
    }
  }
  const raw = window.subarray(0, filled);
  if (filled > 0 && !isZero(raw)) yield { offset, raw, frame: compressFrame(raw, level) };
  length.bytes = offset + filled;
}

/** A source's frames, and its length once they are all out. */
async function sourceFrames(source: BundleSource, level: number): Promise<{ frames: AsyncGenerator<Frame>; length: { bytes: number } }> {
  if ("stream" in source) {
    const length = { bytes: 0 };
    return { frames: streamFrames(source.stream, level, length), length };
  }
  // A streamed file on disk (the layer a live offload froze) is read at the length it has now.
  const bytes = source.entry.streamed === true ? (await stat(source.path)).size : source.entry.sizeBytes;
  return { frames: fileFrames(source.path, bytes, level), length: { bytes } };
}

function frameHead(offset: number, length: number): Buffer {
  const head = Buffer.alloc(DATA_HEAD_BYTES);
  head.writeBigUInt64BE(BigInt(offset), 0);
  head.writeUInt32BE(length, 8);
  return head;
}

/** Feeds the digest what FileEnd.sha256 covers for one frame. */
export function hashFrame(hash: Hash, offset: number, raw: Buffer): void {
  hash.update(frameHead(offset, raw.length));
  hash.update(raw);
}

/**
 * The bundle as a byte stream: the manifest first, then each file as data frames only, then the trailer.
 * Nothing is buffered beyond one frame, so a bundle of any size streams to a pipe or an upload.
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
      const table: FileEnd["frames"] = [];
      let fileData = 0;
      const produced = await sourceFrames(source, level);
      for await (const { offset, raw, frame } of produced.frames) {
        hashFrame(hash, offset, raw);
        table.push([offset, raw.length, bytes, DATA_HEAD_BYTES + frame.length]);
        yield* emit(record(RecordKind.Data, Buffer.concat([frameHead(offset, raw.length), frame])));
        fileData += raw.length;
        frames += 1;
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
  const stream = Readable.from(generate(), { objectMode: false });
  stream.once("error", fail);
  return { stream, figures };
}
