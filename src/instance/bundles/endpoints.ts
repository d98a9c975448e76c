import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import {
  checkBucket,
  createS3Client,
  parseS3Url,
  startResumableUpload,
  type S3Connection,
  type S3Location,
  type UploadProgress,
} from "../../remote/s3/index.ts";
import { snapvmHome } from "../../paths/index.ts";
import { fsyncDirectory, fsyncFile } from "../../util/fsync.ts";
import { openResumableDownload, type ResumableDownload } from "./download-cache.ts";

/** Where a bundle goes to or comes from: `-` (stdout / stdin), `s3://BUCKET/KEY`, or a file path. */
export type Endpoint = { kind: "stdio" } | { kind: "s3"; location: S3Location; url: string } | { kind: "file"; path: string };

export function parseEndpoint(text: string): Endpoint {
  if (text === "-") return { kind: "stdio" };
  if (text.startsWith("s3://")) return { kind: "s3", location: parseS3Url(text), url: text };
  if (text === "" || text.includes("\0")) throw new SnapvmError(ErrorCode.InvalidArgument, "give a file path, - or s3://BUCKET/KEY");
  return { kind: "file", path: resolve(text) };
}

export function describeEndpoint(endpoint: Endpoint): string {
  return endpoint.kind === "stdio" ? "standard output" : endpoint.kind === "s3" ? endpoint.url : endpoint.path;
}

export interface S3Options {
  endpoint?: string;
}

/** A destination that is either committed whole or leaves nothing: a temp file renamed, or an aborted upload. */
export interface Sink {
  writable: Writable;
  /** Waits for the bytes to be durable at the destination; an S3 upload says how many parts an earlier run had stored. */
  commit(): Promise<{ resumedParts?: number }>;
  abort(): Promise<void>;
  /** Stops, keeping what an S3 upload stored for a later resume (elsewhere the same as abort). */
  leave(): Promise<void>;
}

/** An S3 upload that may continue one begun before, and reports what it stored. */
export interface ResumeHooks {
  progress?: UploadProgress;
  onProgress: (progress: UploadProgress) => Promise<void>;
}

/** Parts of 16 MiB, 4 in flight: 80 MiB of memory at most, few enough requests for a large bundle. */
const PART_BYTES = 16 * 2 ** 20;

/** A client for the endpoint the options name (or the SDK's default chain). */
export function connect(s3: S3Options): Promise<S3Connection> {
  return createS3Client(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint });
}

/**
 * What can be known before a byte is produced: not a terminal, a new file in an existing directory, a
 * bucket that exists and takes these credentials. A live offload runs it before the guest's state moves.
 */
export async function preflightSink(endpoint: Endpoint, s3: S3Options = {}): Promise<void> {
  if (endpoint.kind === "stdio") {
    if (process.stdout.isTTY) {
      throw new SnapvmError(ErrorCode.InvalidArgument, "refusing to write a bundle to a terminal", {
        hint: "Redirect standard output to a file or a pipe, or give --to FILE.",
      });
    }
    return;
  }
  if (endpoint.kind === "file") {
    if (existsSync(endpoint.path)) {
      throw new SnapvmError(ErrorCode.InvalidArgument, `${endpoint.path} already exists`, { hint: "Give a new file name, or remove the old file first." });
    }
    if (!existsSync(dirname(endpoint.path))) throw new SnapvmError(ErrorCode.InvalidArgument, `the directory ${dirname(endpoint.path)} does not exist`);
    return;
  }
  await checkBucket(await connect(s3), endpoint.location.bucket);
}

export async function openSink(endpoint: Endpoint, s3: S3Options = {}, resume?: ResumeHooks): Promise<Sink> {
  await preflightSink(endpoint, s3);
  if (endpoint.kind === "stdio") {
    const done = (): Promise<void> => Promise.resolve();
    return { writable: process.stdout, commit: () => Promise.resolve({}), abort: done, leave: done };
  }
  if (endpoint.kind === "file") {
    const temp = `${endpoint.path}.tmp-${process.pid}`;
    const writable = createWriteStream(temp, { mode: 0o600, flags: "wx" });
    const abort = async (): Promise<void> => {
      writable.destroy();
      await rm(temp, { force: true });
    };
    return {
      writable,
      commit: async () => {
        await finished(writable);
        await fsyncFile(temp);
        await rename(temp, endpoint.path);
        await fsyncDirectory(dirname(endpoint.path));
        return {};
      },
      abort,
      leave: abort,
    };
  }
  const connection = await connect(s3);
  // Each part with its Content-MD5; without resume hooks an interrupted upload is removed with its parts.
  const upload = await startResumableUpload(connection, endpoint.location, {
    partSize: PART_BYTES,
    queueSize: 4,
    ...(resume?.progress === undefined ? {} : { resume: resume.progress }),
    ...(resume === undefined ? {} : { onProgress: resume.onProgress }),
  });
  return {
    writable: upload.writable,
    commit: async () => ({ resumedParts: (await upload.done).resumedParts }),
    abort: upload.abort,
    leave: async () => {
      upload.writable.destroy();
      await upload.done.catch(() => undefined);
    },
  };
}

/** A bundle to read; from S3, a download whose bytes are kept so the same import run again resumes it. */
export interface Source {
  stream: Readable;
  download?: ResumableDownload;
}

export async function openSource(endpoint: Endpoint, s3: S3Options = {}, home = snapvmHome()): Promise<Source> {
  if (endpoint.kind === "stdio") {
    if (process.stdin.isTTY)
      throw new SnapvmError(ErrorCode.InvalidArgument, "standard input is a terminal, not a bundle", {
        hint: "Pipe a bundle in, or give a file or s3:// URL.",
      });
    return { stream: process.stdin };
  }
  if (endpoint.kind === "file") {
    if (!existsSync(endpoint.path))
      throw new SnapvmError(ErrorCode.InvalidArgument, `${endpoint.path} does not exist`, { hint: "Give the bundle file `snapvm snapshot export` wrote." });
    return { stream: createReadStream(endpoint.path, { highWaterMark: 4 * 1024 * 1024 }) };
  }
  // A download that breaks resumes where it stopped (a new Range GET of the same ETag), within the run
  // and, through the local copy, in the next run of the same import.
  const download = await openResumableDownload(await connect(s3), endpoint.location, endpoint.url, home);
  return { stream: download.stream, download };
}
