import type { WorkerReply } from "../util/worker-pool.ts";
import type { ZstdBinding } from "./zstd.ts";

/** Raw bytes at a file offset in; the whole DATA record (head and body) and the body's digest out. */
export interface CompressTask {
  kind: "compress";
  offset: number;
  /** Moved to the worker and back: the caller reuses it. */
  raw: Uint8Array<ArrayBuffer>;
  level: number;
}
export interface CompressResult {
  kind: "compress";
  record: Uint8Array<ArrayBuffer>;
  /** SHA-256 (hex) of the DATA body: offset u64 BE, raw length u32 BE, the zstd frame. */
  digest: string;
  raw: Uint8Array<ArrayBuffer>;
}

/** A DATA body whose head the caller checked, and a buffer of at least `rawLength` bytes to decode it into. */
export interface DecodeTask {
  kind: "decode";
  body: Uint8Array<ArrayBuffer>;
  rawLength: number;
  target: Uint8Array<ArrayBuffer>;
}
export interface DecodeResult {
  kind: "decode";
  /** The body is exactly one zstd frame that declares and yields exactly `rawLength` bytes. */
  ok: boolean;
  digest: string;
  /** `target`, holding the raw bytes when ok. */
  raw: Uint8Array<ArrayBuffer>;
  body: Uint8Array<ArrayBuffer>;
  /** [start, end) pairs, flattened, of the runs of non-zero blocks in the raw bytes: only these are written. */
  runs: number[];
}

export type FrameTask = CompressTask | DecodeTask;
export type FrameResult = CompressResult | DecodeResult;

export interface FrameWorkerData {
  zstdBinding: string;
  dataKind: string;
  recordHeadBytes: number;
  dataHeadBytes: number;
  blockBytes: number;
}

/**
 * The frame workers' handler (a WorkerSetup: it runs from its source text, so it uses nothing from this
 * module but types). Compressing builds the record in one buffer, so the main thread neither copies nor
 * hashes a DATA body; decoding never writes past `rawLength`, whatever the frame claims.
 */
export function frameWorker(require: NodeJS.Require, data: FrameWorkerData): (task: FrameTask) => WorkerReply<FrameResult> {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const zstd = require(data.zstdBinding) as ZstdBinding;
  const cctx = new zstd.CCtx();
  const dctx = new zstd.DCtx();
  const headBytes = data.recordHeadBytes + data.dataHeadBytes;
  const zeroBlock = Buffer.alloc(data.blockBytes);
  let scratch: Buffer<ArrayBuffer> | undefined;

  const compress = (task: CompressTask): WorkerReply<FrameResult> => {
    const raw = Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength);
    const capacity = headBytes + zstd.compressBound(raw.length);
    const out = scratch !== undefined && scratch.length >= capacity ? scratch : Buffer.allocUnsafeSlow(capacity);
    const frameBytes = cctx.compress(out.subarray(headBytes), raw, task.level);
    const length = headBytes + frameBytes;
    out.write(data.dataKind, 0, "latin1");
    out.writeUInt32BE(length - data.recordHeadBytes, 4);
    out.writeBigUInt64BE(BigInt(task.offset), data.recordHeadBytes);
    out.writeUInt32BE(raw.length, data.recordHeadBytes + 8);
    const digest = createHash("sha256").update(out.subarray(data.recordHeadBytes, length)).digest("hex");
    // A record that fills most of the buffer takes it along; a small one is copied out and the buffer kept.
    let record: Buffer<ArrayBuffer>;
    if (length >= 0.75 * out.length) {
      record = out.subarray(0, length);
      scratch = undefined;
    } else {
      record = Buffer.allocUnsafeSlow(length);
      out.copy(record, 0, 0, length);
      scratch = out;
    }
    return { result: { kind: "compress", record, digest, raw: task.raw }, transfer: [record.buffer, task.raw.buffer] };
  };

  const decode = (task: DecodeTask): WorkerReply<FrameResult> => {
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
    const frame = body.subarray(data.dataHeadBytes);
    const target = Buffer.from(task.target.buffer, task.target.byteOffset, task.rawLength);
    const decodes = (): boolean => {
      try {
        return (
          zstd.findFrameCompressedSize(frame) === frame.length &&
          zstd.getFrameContentSize(frame) === task.rawLength &&
          dctx.decompress(target, frame) === task.rawLength
        );
      } catch {
        return false; // the binding throws on a malformed frame
      }
    };
    const ok = decodes();
    const runs: number[] = [];
    if (ok) {
      let start = -1;
      for (let at = 0; at < target.length; at += data.blockBytes) {
        const end = Math.min(at + data.blockBytes, target.length);
        const zero = target.subarray(at, end).equals(zeroBlock.subarray(0, end - at));
        if (!zero && start < 0) start = at;
        if (zero && start >= 0) {
          runs.push(start, at);
          start = -1;
        }
      }
      if (start >= 0) runs.push(start, target.length);
    }
    const digest = createHash("sha256").update(body).digest("hex");
    return { result: { kind: "decode", ok, digest, raw: task.target, body: task.body, runs }, transfer: [task.target.buffer, task.body.buffer] };
  };

  return (task) => (task.kind === "compress" ? compress(task) : decode(task));
}
