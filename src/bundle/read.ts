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
  type BundleFile,
  type BundleManifest,
  type FileEnd,
  type Trailer,
} from "./format.ts";
import { parseBundleManifest, parseFileEnd, parseTrailer } from "./manifest-schema.ts";
import { invalidBundle } from "./errors.ts";
import { hashFrame } from "./write.ts";
import { decompressFrameInto } from "./zstd.ts";

/** Exact reads from an async byte stream, hashing every byte consumed (for the trailer's digest). */
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

interface RawRecord {
  kind: string;
  body: Buffer;
  /** Where the record's head starts in the bundle. */
  at: number;
}

/**
 * Reads a bundle front to back, checking as it goes: the magic, the manifest (shape and bounds), each
 * file's frames (in its bounds, in order, one zstd frame of the declared length), each file's digest and
 * frame table, the trailer's digest of everything, and that nothing follows it.
 */
export class BundleReader {
  readonly #source: ByteSource;
  #manifest: BundleManifest | undefined;
  #next = 0;

  constructor(stream: AsyncIterable<Buffer>) {
    this.#source = new ByteSource(stream);
  }

  get position(): number {
    return this.#source.position;
  }

  async #record(what: string, maxBytes: number, digestBefore?: (digest: string) => void): Promise<RawRecord> {
    const at = this.#source.position;
    digestBefore?.(this.#source.hash.copy().digest("hex"));
    const head = await this.#source.read(RECORD_HEAD_BYTES, what);
    const kind = head.toString("latin1", 0, 4);
    const length = head.readUInt32BE(4);
    if (length > maxBytes)
      throw invalidBundle("record-too-large", `the bundle's ${kind} record at byte ${at} claims ${length} bytes, over the ${maxBytes} allowed for ${what}`);
    return { kind, body: await this.#source.read(length, what), at };
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
   * written, and within them only non-zero 64 KiB blocks, so holes stay holes.
   */
  async readFile(entry: BundleFile, target: string, onData?: (bytes: number) => void): Promise<FileEnd> {
    const manifest = this.#manifest;
    if (manifest === undefined) throw new Error("BundleReader.readFile before manifest()");
    if (manifest.files[this.#next]?.name !== entry.name) throw new Error(`BundleReader.readFile(${entry.name}) out of order`);
    this.#next += 1;
    const start = await this.#record(`the start of ${entry.name}`, BUNDLE_LIMITS.jsonRecordBytes);
    const startName = start.kind === RecordKind.FileStart ? (this.#json(start, "file record") as { name?: unknown }).name : undefined;
    if (startName !== entry.name)
      throw invalidBundle("bad-record", `expected the file ${entry.name} at byte ${start.at}, found ${start.kind} ${String(startName)}`);
    const hash = createHash("sha256");
    const frames: FileEnd["frames"] = [];
    let dataBytes = 0;
    let nextOffset = 0;
    const raw = Buffer.allocUnsafe(manifest.frameBytes);
    // A streamed file's length is known at its end only: until then, frames may land up to the bound.
    const streamed = entry.streamed === true;
    const bound = streamed ? BUNDLE_LIMITS.fileBytes : entry.sizeBytes;
    const handle = await open(target, "w", 0o600);
    try {
      if (!streamed) await handle.truncate(entry.sizeBytes);
      for (;;) {
        const record = await this.#record(`a frame of ${entry.name}`, BUNDLE_LIMITS.dataRecordBytes);
        if (record.kind === RecordKind.FileEnd) {
          const end = parseFileEnd(this.#json(record, "file end"));
          const digest = hash.digest("hex");
          if (end.name !== entry.name || end.sha256 !== digest || end.dataBytes !== dataBytes || JSON.stringify(end.frames) !== JSON.stringify(frames)) {
            throw invalidBundle("digest-mismatch", `${entry.name} in the bundle does not match its digest: the bundle was altered or damaged`);
          }
          const length = end.sizeBytes ?? (streamed ? undefined : entry.sizeBytes);
          if (length === undefined || length < nextOffset || (!streamed && length !== entry.sizeBytes)) {
            throw invalidBundle("bad-record", `the end of ${entry.name} gives no length or one that does not fit its frames (${String(length)})`);
          }
          if (streamed) await handle.truncate(length);
          await handle.sync();
          return end;
        }
        if (record.kind !== RecordKind.Data || record.body.length < DATA_HEAD_BYTES)
          throw invalidBundle("bad-record", `unexpected ${JSON.stringify(record.kind)} record at byte ${record.at} in ${entry.name}`);
        const offset = Number(record.body.readBigUInt64BE(0));
        const length = record.body.readUInt32BE(8);
        if (length === 0 || length > manifest.frameBytes || offset < nextOffset || offset + length > bound) {
          throw invalidBundle(
            "bad-frame",
            `a frame of ${entry.name} at byte ${record.at} lies outside the file or out of order (offset ${offset}, ${length} bytes)`,
          );
        }
        const data = raw.subarray(0, length);
        if (!decompressFrameInto(record.body.subarray(DATA_HEAD_BYTES), data)) {
          throw invalidBundle("bad-frame", `a frame of ${entry.name} at byte ${record.at} does not decode to the ${length} bytes it declares`);
        }
        hashFrame(hash, offset, data);
        frames.push([offset, length, record.at, record.body.length]);
        await writeNonZero(handle, data, offset);
        nextOffset = offset + length;
        dataBytes += length;
        onData?.(length);
      }
    } catch (error) {
      if (isErrno(error, "ENOSPC")) {
        throw new SnapvmError(ErrorCode.NoSpace, `the filesystem of ${target} is full`, {
          hint: "Free space there and import again; nothing was kept.",
          cause: error,
        });
      }
      throw error;
    } finally {
      await handle.close();
    }
  }

  /** Reads and checks the trailer, and that the stream ends there. */
  async finish(): Promise<Trailer> {
    const files = this.#manifest?.files.length ?? 0;
    if (this.#next !== files) throw new Error("BundleReader.finish before every file was read");
    let expected = "";
    const record = await this.#record("the trailer", BUNDLE_LIMITS.jsonRecordBytes, (digest) => (expected = digest));
    if (record.kind !== RecordKind.Trailer)
      throw invalidBundle("bad-record", `expected the trailer at byte ${record.at}, found ${JSON.stringify(record.kind)}`);
    const trailer = parseTrailer(this.#json(record, "trailer"));
    if (trailer.sha256 !== expected || trailer.files !== files || trailer.bytes !== record.at) {
      throw invalidBundle("digest-mismatch", "the bundle's trailer does not match what came before it: the bundle was altered or damaged");
    }
    if (!(await this.#source.atEnd())) throw invalidBundle("trailing-bytes", "bytes follow the bundle's trailer: it was altered or two bundles were joined");
    return trailer;
  }
}

const BLOCK = 64 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

async function writeNonZero(handle: FileHandle, data: Buffer, offset: number): Promise<void> {
  let runStart = -1;
  for (let at = 0; at < data.length; at += BLOCK) {
    const block = data.subarray(at, Math.min(at + BLOCK, data.length));
    const zero = block.equals(ZERO_BLOCK.subarray(0, block.length));
    if (!zero && runStart < 0) runStart = at;
    if (zero && runStart >= 0) {
      await handle.write(data, runStart, at - runStart, offset + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) await handle.write(data, runStart, data.length - runStart, offset + runStart);
}
