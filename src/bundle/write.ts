import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { compressFrame } from "./zstd.ts";
import { BUNDLE_MAGIC, DATA_HEAD_BYTES, FRAME_BYTES, RecordKind, type BundleFile, type BundleManifest, type FileEnd, type Trailer } from "./format.ts";

export interface BundleSource {
  entry: BundleFile;
  /** Where the file is read on this host. */
  path: string;
}

export interface WriteFigures {
  /** Bytes of the bundle (before any encryption). */
  bytes: number;
  /** Raw bytes of the frames sent (the files' data; all-zero frames are not sent). */
  dataBytes: number;
  frames: number;
}

export interface WriteOptions {
  /** zstd level, 1–19 (default 3). */
  level?: number;
  /** Called after each frame with the raw bytes read so far. */
  onData?: (rawBytesRead: number) => void;
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

/** The frames of one file: each FRAME_BYTES window that holds a non-zero byte, zstd-compressed on its own. */
async function* fileFrames(path: string, sizeBytes: number, level: number): AsyncGenerator<{ offset: number; raw: Buffer; frame: Buffer }> {
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
      // Holes read as zeros: a window with no data is not sent (and reading a hole costs no disk I/O).
      if (raw.equals(ZERO_FRAME.subarray(0, want))) continue;
      yield { offset, raw, frame: compressFrame(raw, level) };
    }
  } finally {
    await handle.close();
  }
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
      for await (const { offset, raw, frame } of fileFrames(source.path, source.entry.sizeBytes, level)) {
        hashFrame(hash, offset, raw);
        table.push([offset, raw.length, bytes, DATA_HEAD_BYTES + frame.length]);
        yield* emit(record(RecordKind.Data, Buffer.concat([frameHead(offset, raw.length), frame])));
        fileData += raw.length;
        frames += 1;
        options.onData?.(dataBytes + fileData);
      }
      dataBytes += fileData;
      const end: FileEnd = { name: source.entry.name, sha256: hash.digest("hex"), dataBytes: fileData, frames: table };
      yield* emit(jsonRecord(RecordKind.FileEnd, end));
    }
    const trailer: Trailer = { sha256: whole.copy().digest("hex"), files: sources.length, bytes };
    yield* emit(jsonRecord(RecordKind.Trailer, trailer));
    settle({ bytes, dataBytes, frames });
  }
  const stream = Readable.from(generate(), { objectMode: false });
  stream.once("error", fail);
  return { stream, figures };
}
