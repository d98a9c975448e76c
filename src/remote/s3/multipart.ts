import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { S3Connection } from "./client.ts";
import { s3Error } from "./errors.ts";
import type { S3Location } from "./url.ts";

// Written here rather than with @aws-sdk/lib-storage: its Upload cannot continue an upload another
// process began (no way to hand it an UploadId and the parts already stored), and it sends no
// Content-MD5 per part. This one does both, on the SDK's own commands.

/** A part the store holds: its number (from 1), ETag (the MD5 of its bytes, quoted) and length. */
export interface StoredPart {
  number: number;
  etag: string;
  sizeBytes: number;
}

/** Enough to continue an interrupted upload: its id, the part size, and the parts stored, 1..n without a gap. */
export interface UploadProgress {
  uploadId: string;
  partSize: number;
  parts: StoredPart[];
}

export interface ResumableUploadOptions {
  /** Bytes per part; S3's minimum is 5 MiB (except the last). */
  partSize: number;
  /** Parts in flight at once. Memory held: about partSize × (queueSize + 1). */
  queueSize: number;
  /** An upload begun before with the same part size: its stored parts are checked against the new bytes, not sent again. */
  resume?: UploadProgress;
  /** Called, one call at a time, whenever the stored prefix of parts grows (and once the upload exists). */
  onProgress?: (progress: UploadProgress) => Promise<void>;
}

export interface ResumableUpload {
  /** The bytes of the object. Ending it completes the upload. */
  writable: Writable;
  /** Resolves once the object exists (CompleteMultipartUpload answered); rejects if any part failed. */
  done: Promise<{ resumedParts: number; parts: number }>;
  /** Removes the upload and its parts from the store. */
  abort: () => Promise<void>;
}

function md5(bytes: Buffer): { hex: string; base64: string } {
  const digest = createHash("md5").update(bytes).digest();
  return { hex: digest.toString("hex"), base64: digest.toString("base64") };
}

const unquote = (etag: string): string => etag.replace(/"/g, "");

const asError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)));

/** The parts the store holds for `uploadId`, 1..n without a gap; undefined when the upload is gone. */
async function storedParts(connection: S3Connection, location: S3Location, uploadId: string): Promise<StoredPart[] | undefined> {
  const { ListPartsCommand } = await import("@aws-sdk/client-s3");
  const parts: StoredPart[] = [];
  let marker: string | undefined;
  try {
    for (;;) {
      const page = await connection.client.send(
        new ListPartsCommand({ Bucket: location.bucket, Key: location.key, UploadId: uploadId, ...(marker === undefined ? {} : { PartNumberMarker: marker }) }),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber !== undefined && part.ETag !== undefined) parts.push({ number: part.PartNumber, etag: part.ETag, sizeBytes: part.Size ?? 0 });
      }
      if (page.IsTruncated !== true || page.NextPartNumberMarker === undefined) break;
      marker = page.NextPartNumberMarker;
    }
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchUpload") return undefined;
    throw s3Error(error, { action: "listing the parts of", bucket: location.bucket, key: location.key, endpoint: connection.endpoint });
  }
  parts.sort((a, b) => a.number - b.number);
  const prefix: StoredPart[] = [];
  for (const part of parts) {
    if (part.number !== prefix.length + 1) break;
    prefix.push(part);
  }
  return prefix;
}

/** Removes an upload begun before and its parts (best effort: one already gone is fine). */
export async function discardUpload(connection: S3Connection, location: S3Location, uploadId: string): Promise<void> {
  const { AbortMultipartUploadCommand } = await import("@aws-sdk/client-s3");
  await connection.client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: uploadId })).catch(() => undefined);
}

/**
 * A multipart upload that can be resumed by another process: each part goes with its Content-MD5 (the
 * store refuses a part that arrives damaged), the stored prefix is reported after every part, and
 * given the progress of an earlier upload, its parts are compared with the new bytes by MD5 and size
 * and skipped when they match (a mismatch fails: the bytes are not the ones begun before).
 */
export async function startResumableUpload(connection: S3Connection, location: S3Location, options: ResumableUploadOptions): Promise<ResumableUpload> {
  const commands = await import("@aws-sdk/client-s3");
  const context = { bucket: location.bucket, key: location.key, endpoint: connection.endpoint };
  let resumed = options.resume === undefined ? undefined : await storedParts(connection, location, options.resume.uploadId);
  if (options.resume !== undefined && options.resume.partSize !== options.partSize) resumed = undefined;
  let uploadId: string;
  if (resumed !== undefined && options.resume !== undefined) uploadId = options.resume.uploadId;
  else {
    try {
      const created = await connection.client.send(new commands.CreateMultipartUploadCommand({ Bucket: location.bucket, Key: location.key }));
      if (created.UploadId === undefined) throw new Error("the store gave no UploadId");
      uploadId = created.UploadId;
    } catch (error) {
      throw s3Error(error, { action: "starting the upload of", ...context });
    }
  }
  const earlier = resumed ?? [];
  const finished = new Map<number, StoredPart>();
  /** Parts reported so far; -1 before the first report (which says the upload exists). */
  let reported = -1;
  let reporting = Promise.resolve();
  const report = (): Promise<void> => {
    let prefix = Math.max(reported, 0);
    while (finished.has(prefix + 1)) prefix += 1;
    if (prefix === reported) return reporting;
    reported = prefix;
    const parts = [...Array(prefix).keys()].map((i) => finished.get(i + 1) as StoredPart);
    reporting = reporting.then(() => options.onProgress?.({ uploadId, partSize: options.partSize, parts }));
    return reporting;
  };
  await report();

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let resumedParts = 0;
  let next = 1;
  const sendPart = async (number: number, bytes: Buffer): Promise<void> => {
    const digest = md5(bytes);
    const stored = earlier[number - 1];
    if (stored !== undefined) {
      if (unquote(stored.etag) !== digest.hex || stored.sizeBytes !== bytes.length) {
        throw new SnapvmError(
          ErrorCode.RemoteFailed,
          `part ${number} of the upload begun before differs from these bytes: what is sent now is not what was sent then`,
          {
            hint: "Run the command again: the earlier upload was discarded and a new one starts.",
            details: { part: number, uploadId },
          },
        );
      }
      resumedParts += 1;
      finished.set(number, stored);
      return;
    }
    try {
      const answer = await connection.client.send(
        new commands.UploadPartCommand({
          Bucket: location.bucket,
          Key: location.key,
          UploadId: uploadId,
          PartNumber: number,
          Body: bytes,
          ContentMD5: digest.base64,
        }),
      );
      finished.set(number, { number, etag: answer.ETag ?? `"${digest.hex}"`, sizeBytes: bytes.length });
    } catch (error) {
      throw s3Error(error, { action: `uploading part ${number} of`, ...context });
    }
  };
  const dispatch = async (bytes: Buffer): Promise<void> => {
    const number = next++;
    const flight: Promise<void> = sendPart(number, bytes).then(report, (error: unknown) => {
      failure ??= error;
    });
    inFlight.add(flight);
    void flight.finally(() => inFlight.delete(flight));
    while (inFlight.size >= options.queueSize && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) throw asError(failure);
  };

  let buffer = Buffer.allocUnsafe(options.partSize);
  let filled = 0;
  let settle: (value: { resumedParts: number; parts: number }) => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const done = new Promise<{ resumedParts: number; parts: number }>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  done.catch(() => undefined);
  const writable = new Writable({
    highWaterMark: 4 * 2 ** 20,
    write(chunk: Buffer, _encoding, callback) {
      void (async () => {
        let at = 0;
        while (at < chunk.length) {
          const take = Math.min(options.partSize - filled, chunk.length - at);
          chunk.copy(buffer, filled, at, at + take);
          filled += take;
          at += take;
          if (filled === options.partSize) {
            const full = buffer;
            buffer = Buffer.allocUnsafe(options.partSize);
            filled = 0;
            await dispatch(full);
          }
        }
      })().then(() => {
        callback();
      }, callback);
    },
    final(callback) {
      void (async () => {
        // Every object has at least one part, the last may be short (even empty when it is the only one).
        if (filled > 0 || next === 1) await dispatch(buffer.subarray(0, filled));
        await Promise.all(inFlight);
        if (failure !== undefined) throw asError(failure);
        await reporting;
        const parts = [...finished.values()].sort((a, b) => a.number - b.number);
        try {
          await connection.client.send(
            new commands.CompleteMultipartUploadCommand({
              Bucket: location.bucket,
              Key: location.key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.number, ETag: p.etag })) },
            }),
          );
        } catch (error) {
          throw s3Error(error, { action: "completing the upload of", ...context });
        }
        settle({ resumedParts, parts: parts.length });
      })().then(() => {
        callback();
      }, callback);
    },
  });
  writable.on("error", (error) => {
    fail(error);
  });
  return {
    writable,
    done,
    abort: async () => {
      writable.destroy();
      await Promise.allSettled(inFlight);
      await discardUpload(connection, location, uploadId);
    },
  };
}
