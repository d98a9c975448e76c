import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { AGE_SNIFF_BYTES, looksLikeAge } from "../crypto/age/index.ts";
import { ErrorCode, isErrno, SnapvmError } from "../errors/index.ts";
import {
  BUNDLE_LIMITS,
  BUNDLE_MAGIC,
  DATA_HEAD_BYTES,
  RECORD_HEAD_BYTES,
  RecordKind,
  fileEndRecordBytes,
  type BundleFile,
  type BundleManifest,
  type FileEnd,
  type FrameEntry,
  type Trailer,
} from "./format.ts";
import { FramePool, type DecodedFrame } from "./frame-pool.ts";

/** Zeros sent per write where a stream has a gap. */
const FRAME_ZERO_BYTES = 1024 * 1024;
import { parseBundleManifest, parseFileEnd, parseTrailer } from "./manifest-schema.ts";
import { invalidBundle } from "./errors.ts";

/**
 * Exact reads from an async byte stream, hashing what the trailer's digest covers: every byte consumed by
 * read(), none consumed by readInto() (DATA bodies, which their frame digests cover).
 */
class ByteSource {
  readonly #iterator: AsyncIterator<Buffer>;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  readonly hash = createHash("sha256");
  position = 0;

  constructor(stream: AsyncIterable<Buffer>) {
    this.#iterator = stream[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<boolean> {
    while (this.#buffered < n && !this.#ended) {
      const next = await this.#iterator.next();
      if (next.done === true) this.#ended = true;
      else {
        this.#chunks.push(next.value);
        this.#buffered += next.value.length;
      }
    }
    return this.#buffered >= n;
  }

  /** The next n bytes; fewer left is a truncated bundle. */
  async read(n: number, what: string): Promise<Buffer> {
    if (!(await this.#fill(n)))
      throw invalidBundle("truncated", `the bundle ends in the middle of ${what}, at byte ${this.position + this.#buffered}: it is truncated`);
    // Most reads are served by the one buffered chunk: no copy then (a record head is 8 bytes of a 4 MiB chunk).
    const [first] = this.#chunks;
    const all = this.#chunks.length === 1 && first !== undefined ? first : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.#buffered = rest.length;
    this.hash.update(out);
    this.position += n;
    return out;
  }

  /** The next n bytes, copied into `target`, not hashed. */
  async readInto(target: Buffer, n: number, what: string): Promise<void> {
    if (!(await this.#fill(n)))
      throw invalidBundle("truncated", `the bundle ends in the middle of ${what}, at byte ${this.position + this.#buffered}: it is truncated`);
    let copied = 0;
    while (copied < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) throw new Error("ByteSource: buffered bytes went missing");
      const take = Math.min(chunk.length, n - copied);
      chunk.copy(target, copied, 0, take);
      copied += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#buffered -= n;
    this.position += n;
  }

  async peek(n: number): Promise<Buffer> {
    await this.#fill(n);
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all.subarray(0, n);
  }

  async atEnd(): Promise<boolean> {
    return !(await this.#fill(1));
  }
}

interface RecordHead {
  kind: string;
  length: number;
  /** Where the record's head starts in the bundle. */
  at: number;
}

interface RawRecord extends RecordHead {
  body: Buffer;
}

/** A DATA record whose head was checked, being decoded on a worker. */
interface InFlight {
  at: number;
  offset: number;
  length: number;
  bodyLength: number;
  frame: Promise<DecodedFrame>;
}

/**
 * Reads a bundle front to back, checking as it goes: the magic, the manifest (shape and bounds), each
 * file's frames (in its bounds, in order, one zstd frame of the declared length), each file's digest and
 * frame table, the trailer's digest, and that nothing follows it. Frames are decoded and
 * hashed on worker threads, a few ahead of the one being written; a frame's head is checked before its
 * body is read or handed on, and its bytes are written only once it decoded to exactly its length.
 */
export class BundleReader {
  readonly #source: ByteSource;
  #manifest: BundleManifest | undefined;
  #next = 0;
  #pool: FramePool | undefined;

  constructor(stream: AsyncIterable<Buffer>) {
    this.#source = new ByteSource(stream);
  }

  get position(): number {
    return this.#source.position;
  }

  async #head(what: string): Promise<RecordHead> {
    const at = this.#source.position;
    const head = await this.#source.read(RECORD_HEAD_BYTES, what);
    return { kind: head.toString("latin1", 0, 4), length: head.readUInt32BE(4), at };
  }

  #bound(head: RecordHead, what: string, maxBytes: number): void {
    if (head.length > maxBytes)
      throw invalidBundle(
        "record-too-large",
        `the bundle's ${head.kind} record at byte ${head.at} claims ${head.length} bytes, over the ${maxBytes} allowed for ${what}`,
      );
  }

  async #body(head: RecordHead, what: string, maxBytes: number): Promise<RawRecord> {
    this.#bound(head, what, maxBytes);
    return { ...head, body: await this.#source.read(head.length, what) };
  }

  async #record(what: string, maxBytes: number): Promise<RawRecord> {
    return this.#body(await this.#head(what), what, maxBytes);
  }

  #json(record: RawRecord, what: string): unknown {
    try {
      return JSON.parse(record.body.toString("utf8")) as unknown;
    } catch {
      throw invalidBundle("bad-json", `the bundle's ${what} at byte ${record.at} is not valid JSON`);
    }
  }

  /** Reads the magic and the manifest; call first, once. */
  async manifest(): Promise<BundleManifest> {
    const magic = await this.#source.peek(Math.max(BUNDLE_MAGIC.length, AGE_SNIFF_BYTES));
    if (looksLikeAge(magic)) {
      throw new SnapvmError(ErrorCode.WrongKey, "the bundle is age-encrypted and no key was given", {
        hint: "Give the identity it was encrypted to (--identity FILE) or its passphrase (--passphrase or --passphrase-file FILE).",
      });
    }
    if (!magic.subarray(0, BUNDLE_MAGIC.length).equals(BUNDLE_MAGIC)) {
      throw invalidBundle(
        "not-a-bundle",
        "the input is not a snapvm bundle (its first bytes are not the bundle magic)",
        "Give a file written by `snapvm snapshot export`.",
      );
    }
    await this.#source.read(BUNDLE_MAGIC.length, "the magic");
    const record = await this.#record("the manifest", BUNDLE_LIMITS.manifestBytes);
    if (record.kind !== RecordKind.Manifest) throw invalidBundle("bad-record", `expected the manifest record first, found ${JSON.stringify(record.kind)}`);
    this.#manifest = parseBundleManifest(this.#json(record, "manifest"));
    return this.#manifest;
  }

  /**
   * Reads the next file into `target` (created, or truncated to the file's length): only its frames are
   * written, and within them only non-zero 64 KiB blocks, so holes stay holes. The file is fsynced
   * unless `sync` is false (a scratch file removed once used: a live offload's stream).
   */
  async readFile(entry: BundleFile, target: string, onData?: (bytes: number) => void, sync = true): Promise<FileEnd> {
    return this.#readInto(entry, await fileSink(target, entry, sync), onData);
  }

  /**
   * Reads the next file as one byte stream through `send` (holes as zeros), which MUST resolve only once it is
   * done with the buffer it was given: a live offload's migration stream fed straight into a loading QEMU.
   */
  async streamFile(entry: BundleFile, what: string, send: (bytes: Buffer) => Promise<void>, onData?: (bytes: number) => void): Promise<FileEnd> {
    return this.#readInto(entry, streamSink(what, send), onData);
  }

  async #readInto(entry: BundleFile, sink: FileSink, onData?: (bytes: number) => void): Promise<FileEnd> {
    const manifest = this.#manifest;
    if (manifest === undefined) throw new Error("BundleReader.readFile before manifest()");
    if (manifest.files[this.#next]?.name !== entry.name) throw new Error(`BundleReader.readFile(${entry.name}) out of order`);
    this.#next += 1;
    const start = await this.#record(`the start of ${entry.name}`, BUNDLE_LIMITS.jsonRecordBytes);
    const startName = start.kind === RecordKind.FileStart ? (this.#json(start, "file record") as { name?: unknown }).name : undefined;
    if (startName !== entry.name)
      throw invalidBundle("bad-record", `expected the file ${entry.name} at byte ${start.at}, found ${start.kind} ${String(startName)}`);
    const hash = createHash("sha256");
    const frames: FrameEntry[] = [];
    let dataBytes = 0;
    let nextOffset = 0;
    // A streamed file's length is known at its end only: until then, frames may land up to the bound.
    const streamed = entry.streamed === true;
    const bound = streamed ? BUNDLE_LIMITS.fileBytes : entry.sizeBytes;
    const pool = (this.#pool ??= new FramePool());
    const inFlight: InFlight[] = [];
    const land = async (sent: InFlight): Promise<void> => {
      const frame = await sent.frame;
      try {
        if (!frame.ok) throw invalidBundle("bad-frame", `a frame of ${entry.name} at byte ${sent.at} does not decode to the ${sent.length} bytes it declares`);
        hash.update(Buffer.from(frame.digest, "hex"));
        frames.push([sent.offset, sent.length, sent.at, sent.bodyLength, frame.digest]);
        await sink.write(frame.raw, sent.offset, frame.runs);
      } finally {
        pool.releaseRaw(frame.raw);
      }
      dataBytes += sent.length;
      onData?.(sent.length);
    };
    try {
      for (;;) {
        const what = `a frame of ${entry.name}`;
        const head = await this.#head(what);
        if (head.kind === RecordKind.FileEnd) {
          const record = await this.#body(head, `the end of ${entry.name}`, fileEndRecordBytes(bound));
          for (let sent = inFlight.shift(); sent !== undefined; sent = inFlight.shift()) await land(sent);
          const end = parseFileEnd(this.#json(record, "file end"));
          const digest = hash.digest("hex");
          if (end.name !== entry.name || end.sha256 !== digest || end.dataBytes !== dataBytes || JSON.stringify(end.frames) !== JSON.stringify(frames)) {
            throw invalidBundle("digest-mismatch", `${entry.name} in the bundle does not match its digest: the bundle was altered or damaged`);
          }
          const length = end.sizeBytes ?? (streamed ? undefined : entry.sizeBytes);
          if (length === undefined || length < nextOffset || (!streamed && length !== entry.sizeBytes)) {
            throw invalidBundle("bad-record", `the end of ${entry.name} gives no length or one that does not fit its frames (${String(length)})`);
          }
          await sink.end(length);
          return end;
        }
        if (head.kind !== RecordKind.Data || head.length < DATA_HEAD_BYTES)
          throw invalidBundle("bad-record", `unexpected ${JSON.stringify(head.kind)} record at byte ${head.at} in ${entry.name}`);
        this.#bound(head, what, BUNDLE_LIMITS.dataRecordBytes);
        const body = pool.bodyBuffer().subarray(0, head.length);
        await this.#source.readInto(body, head.length, what);
        const offset = Number(body.readBigUInt64BE(0));
        const length = body.readUInt32BE(8);
        if (length === 0 || length > manifest.frameBytes || offset < nextOffset || offset + length > bound) {
          throw invalidBundle(
            "bad-frame",
            `a frame of ${entry.name} at byte ${head.at} lies outside the file or out of order (offset ${offset}, ${length} bytes)`,
          );
        }
        nextOffset = offset + length;
        inFlight.push({ at: head.at, offset, length, bodyLength: head.length, frame: pool.decode(body, length) });
        if (inFlight.length >= pool.inFlight) {
          const sent = inFlight.shift();
          if (sent !== undefined) await land(sent);
        }
      }
    } catch (error) {
      await this.close();
      if (isErrno(error, "ENOSPC")) {
        throw new SnapvmError(ErrorCode.NoSpace, `the filesystem of ${sink.what} is full`, {
          hint: "Free space there and import again; nothing was kept.",
          cause: error,
        });
      }
      throw error;
    } finally {
      await sink.close();
    }
  }

  /** Reads and checks the trailer, and that the stream ends there. */
  async finish(): Promise<Trailer> {
    const files = this.#manifest?.files.length ?? 0;
    if (this.#next !== files) throw new Error("BundleReader.finish before every file was read");
    await this.close();
    const expected = this.#source.hash.copy().digest("hex");
    const record = await this.#record("the trailer", BUNDLE_LIMITS.jsonRecordBytes);
    if (record.kind !== RecordKind.Trailer)
      throw invalidBundle("bad-record", `expected the trailer at byte ${record.at}, found ${JSON.stringify(record.kind)}`);
    const trailer = parseTrailer(this.#json(record, "trailer"));
    if (trailer.sha256 !== expected || trailer.files !== files || trailer.bytes !== record.at) {
      throw invalidBundle("digest-mismatch", "the bundle's trailer does not match what came before it: the bundle was altered or damaged");
    }
    if (!(await this.#source.atEnd())) throw invalidBundle("trailing-bytes", "bytes follow the bundle's trailer: it was altered or two bundles were joined");
    return trailer;
  }

  /** Ends the frame workers: done by finish() and by a failed readFile(); call it if the reader is dropped before. */
  async close(): Promise<void> {
    await this.#pool?.close();
    this.#pool = undefined;
  }
}

/** Where a file's frames land, in increasing offset order. */
interface FileSink {
  what: string;
  /** A frame's raw bytes at `offset`; `runs` are its non-zero blocks ([start, end) pairs, flattened). */
  write(raw: Buffer, offset: number, runs: readonly number[]): Promise<void>;
  /** The file ends at `length` (at or past every frame's end); zeros up to it. */
  end(length: number): Promise<void>;
  close(): Promise<void>;
}

/** A file at `target`: only the runs of non-zero blocks are written, so holes stay holes; fsynced if `sync`. */
async function fileSink(target: string, entry: BundleFile, sync: boolean): Promise<FileSink> {
  const handle: FileHandle = await open(target, "w", 0o600);
  try {
    if (entry.streamed !== true) await handle.truncate(entry.sizeBytes);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return {
    what: target,
    write: async (raw, offset, runs) => {
      for (let i = 0; i + 1 < runs.length; i += 2) {
        const start = runs[i] ?? 0;
        const end = runs[i + 1] ?? start;
        await handle.write(raw, start, end - start, offset + start);
      }
    },
    end: async (length) => {
      if (entry.streamed === true) await handle.truncate(length);
      if (sync) await handle.sync();
    },
    close: () => handle.close(),
  };
}

const ZEROS = Buffer.alloc(FRAME_ZERO_BYTES);

/** One byte stream: the gaps between frames (windows the writer found all zero) are sent as zeros. */
function streamSink(what: string, send: (bytes: Buffer) => Promise<void>): FileSink {
  let position = 0;
  const zeros = async (to: number): Promise<void> => {
    while (position < to) {
      const n = Math.min(ZEROS.length, to - position);
      await send(ZEROS.subarray(0, n));
      position += n;
    }
  };
  return {
    what,
    write: async (raw, offset) => {
      await zeros(offset);
      await send(raw);
      position = offset + raw.length;
    },
    end: (length) => zeros(length),
    close: () => Promise.resolve(),
  };
}
