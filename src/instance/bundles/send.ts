import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BundleManifest } from "../../bundle/format.ts";
import { writeBundle, type BundleSource, type WriteFigures, type WriteOptions } from "../../bundle/write.ts";
import { createEncryptStream, type AgeKeyMaterial, type Recipient } from "../../crypto/age/index.ts";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { openSink, type Endpoint, type ResumeHooks, type S3Options } from "./endpoints.ts";

export interface SendOptions extends S3Options {
  recipients?: readonly Recipient[];
  /** zstd level of the frames, 1–19 (default 3). */
  level?: number;
  onData?: (rawBytesRead: number) => void;
  final?: WriteOptions["final"];
  /** Aborting it (Ctrl-C) stops the transfer: the destination is left as it was. */
  signal?: AbortSignal;
  /**
   * Makes an S3 upload resumable: it continues the upload begun before (its parts are checked, not
   * sent again), reports what it stores and the age key material, and on failure keeps its parts.
   */
  resume?: ResumeHooks & { keyMaterial?: AgeKeyMaterial; onKeyMaterial: (material: AgeKeyMaterial) => void };
}

export interface SendFigures extends WriteFigures {
  /** What reached the destination (the age file when encrypted). */
  sentBytes: number;
  /** S3: parts an earlier run had stored (resumed uploads only). */
  resumedParts?: number;
}

/** The bytes sent now differ from the parts an earlier run stored (startResumableUpload's refusal). */
export function isStaleUpload(error: unknown): boolean {
  return isSnapvmError(error) && error.code === ErrorCode.RemoteFailed && error.details["uploadId"] !== undefined;
}

/** Counts what passes, for the figures. */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * Writes a bundle to its destination, age-encrypted on the way when recipients are given: nothing
 * unencrypted is written anywhere. The destination is committed whole or not at all (a temp file
 * renamed, an upload completed); any failure of any leg aborts it.
 */
export async function sendBundle(
  manifest: BundleManifest,
  sources: readonly BundleSource[],
  endpoint: Endpoint,
  options: SendOptions = {},
): Promise<SendFigures> {
  const bundle = writeBundle(manifest, sources, {
    ...(options.level === undefined ? {} : { level: options.level }),
    ...(options.onData === undefined ? {} : { onData: options.onData }),
    ...(options.final === undefined ? {} : { final: options.final }),
  });
  const counter = new Counter();
  const recipients = options.recipients ?? [];
  const resume = options.resume;
  let committed: { resumedParts?: number };
  const sink = await openSink(endpoint, options, resume);
  const streamOptions = { end: endpoint.kind !== "stdio", ...(options.signal === undefined ? {} : { signal: options.signal }) };
  try {
    if (recipients.length > 0) {
      const encrypt = createEncryptStream(recipients, {
        ...(resume?.keyMaterial === undefined ? {} : { reuse: resume.keyMaterial }),
        ...(resume === undefined ? {} : { onKeyMaterial: resume.onKeyMaterial }),
      });
      await pipeline(bundle.stream, encrypt, counter, sink.writable, streamOptions);
    } else await pipeline(bundle.stream, counter, sink.writable, streamOptions);
    committed = await sink.commit();
  } catch (error) {
    // A resumable upload keeps its parts, unless what was sent then is not what is sent now.
    if (resume !== undefined && !isStaleUpload(error)) await sink.leave();
    else await sink.abort();
    // An abort says why (E_INTERRUPTED from the CLI), not the stream's generic AbortError.
    if (options.signal?.aborted === true && options.signal.reason instanceof Error) throw options.signal.reason;
    throw error;
  }
  return { ...(await bundle.figures), sentBytes: counter.bytes, ...committed };
}
