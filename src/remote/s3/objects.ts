import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { S3Connection } from "./client.ts";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { isBrokenTransfer, s3Error, type S3ErrorContext } from "./errors.ts";
import { keyProblem, type S3Key, type S3Location, type S3Prefix } from "./url.ts";

// Every function here imports the SDK when called (see createS3Client) and throws SnapvmErrors from
// s3Error for what the server or the network refused.

function context(connection: S3Connection, action: string, location: S3Location): S3ErrorContext {
  return { action, bucket: location.bucket, key: location.key, endpoint: connection.endpoint };
}

export interface ObjectFacts {
  readonly size: number;
  /** As the server reports it on HEAD; quoted, and for multipart objects "<md5 of md5s>-<parts>". */
  readonly etag: string | undefined;
}

/** One PUT: for bodies up to a few tens of MiB whose length is known. Larger ones: uploadMultipart. */
export async function putObject(connection: S3Connection, location: S3Location, body: Buffer | string): Promise<void> {
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  try {
    await connection.client.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body }));
  } catch (error) {
    throw s3Error(error, context(connection, "uploading", location));
  }
}

/** The object's bytes as a stream (optionally bytes start..end, inclusive, as HTTP ranges are). */
export async function getObjectStream(
  connection: S3Connection,
  location: S3Location,
  range?: { start: number; end: number },
  /** The ETag the object must still have (a resumed read must not splice two versions). */
  ifMatch?: string,
): Promise<Readable> {
  const { GetObjectCommand } = await import("@aws-sdk/client-s3");
  try {
    const answer = await connection.client.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }),
      }),
    );
    // In Node the SDK's body is an http.IncomingMessage, a Readable.
    return answer.Body as Readable;
  } catch (error) {
    throw s3Error(error, context(connection, "reading", location));
  }
}

export interface ResumeOptions {
  /** How many breaks in a row are survived (default 5); a read that makes progress resets the count. */
  retries?: number;
  /** Told each time the read starts again, with the offset it resumes at. */
  onResume?: (offset: number, error: unknown) => void;
  /** Start at this byte of the object, whose facts (size, ETag) the caller already has: no HEAD is asked. */
  from?: { offset: number; facts: ObjectFacts };
}

/**
 * The whole object as one stream that survives broken connections: when the body breaks (reset,
 * timeout, early close), it is asked for again from the byte it stopped at (a Range GET with If-Match
 * on the ETag first seen, so the bytes never come from two versions of the object).
 */
export function readObjectResumably(connection: S3Connection, location: S3Location, options: ResumeOptions = {}): Readable {
  const retries = options.retries ?? 5;
  async function* bytes(): AsyncGenerator<Buffer> {
    const facts = options.from?.facts ?? (await headObject(connection, location));
    let at = options.from?.offset ?? 0;
    let failures = 0;
    while (at < facts.size) {
      const started = at;
      try {
        const body = await getObjectStream(connection, location, { start: at, end: facts.size - 1 }, facts.etag);
        for await (const chunk of body as AsyncIterable<Buffer>) {
          at += chunk.length;
          yield chunk;
        }
        if (at < facts.size) throw Object.assign(new Error("aborted"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
      } catch (error) {
        if (at > started) failures = 0;
        failures += 1;
        const broken = isBrokenTransfer(error) || (isSnapvmError(error) && error.code === ErrorCode.RemoteUnreachable);
        if (!broken || failures > retries) throw s3Error(error, context(connection, "reading", location));
        options.onResume?.(at, error);
        await sleep(100 * 2 ** Math.min(failures, 5));
      }
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

export async function headObject(connection: S3Connection, location: S3Location): Promise<ObjectFacts> {
  const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
  try {
    const answer = await connection.client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return { size: answer.ContentLength ?? 0, etag: answer.ETag };
  } catch (error) {
    throw s3Error(error, context(connection, "looking up", location));
  }
}

/** Deletes the object; deleting one that does not exist succeeds, as S3 defines it. */
export async function deleteObject(connection: S3Connection, location: S3Location): Promise<void> {
  const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
  try {
    await connection.client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
  } catch (error) {
    throw s3Error(error, context(connection, "deleting", location));
  }
}

/** Checks before a transfer that the bucket exists and the credentials reach it (HeadBucket). */
export async function checkBucket(connection: S3Connection, bucket: S3Location["bucket"]): Promise<void> {
  const { HeadBucketCommand } = await import("@aws-sdk/client-s3");
  try {
    await connection.client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    throw s3Error(error, { action: "checking", bucket, endpoint: connection.endpoint });
  }
}

export interface ListedObject {
  readonly location: S3Location;
  readonly size: number;
  readonly lastModified: string | undefined;
  readonly etag: string | undefined;
}

/** The objects under a prefix, in key order, at most `max` (the listing says whether it stopped early). */
export async function listObjects(connection: S3Connection, where: S3Prefix, max: number): Promise<{ objects: ListedObject[]; truncated: boolean }> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const objects: ListedObject[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await connection.client.send(
        new ListObjectsV2Command({
          Bucket: where.bucket,
          ...(where.prefix === "" ? {} : { Prefix: where.prefix }),
          MaxKeys: Math.min(1000, max - objects.length),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined || keyProblem(item.Key) !== undefined) continue; // a key snapvm could not name is not one of its bundles
        objects.push({
          location: { bucket: where.bucket, key: item.Key as S3Key },
          size: item.Size ?? 0,
          lastModified: item.LastModified?.toISOString(),
          etag: item.ETag,
        });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined && objects.length < max);
  } catch (error) {
    throw s3Error(error, { action: "listing", bucket: where.bucket, key: where.prefix, endpoint: connection.endpoint });
  }
  return { objects, truncated: token !== undefined };
}

export interface MultipartOptions {
  /** Bytes per part; S3's minimum (and the default) is 5 MiB. Memory held: partSize × queueSize. */
  partSize?: number;
  /** Parts in flight at once (default 4). */
  queueSize?: number;
}

/**
 * Streams a body of unknown length to one object with lib-storage's multipart Upload; a failed upload is
 * aborted so no parts are left behind. Returns nothing on purpose: radosgw 16 answers
 * CompleteMultipartUpload with an empty ETag, so callers that need facts ask headObject.
 */
export async function uploadMultipart(connection: S3Connection, location: S3Location, body: Readable | Buffer, options: MultipartOptions = {}): Promise<void> {
  const { Upload } = await import("@aws-sdk/lib-storage");
  const upload = new Upload({
    client: connection.client,
    params: { Bucket: location.bucket, Key: location.key, Body: body },
    partSize: options.partSize ?? 5 * 1024 * 1024,
    queueSize: options.queueSize ?? 4,
    leavePartsOnError: false,
  });
  try {
    await upload.done();
  } catch (error) {
    throw s3Error(error, context(connection, "uploading", location));
  }
}
