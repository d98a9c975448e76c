import { createReadStream } from "node:fs";
import { open, readFile, rm, stat, statfs, type FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { z } from "zod";
import { ErrorCode, isSnapvmError, SnapvmError } from "../../errors/index.ts";
import { downloadCachePaths, transfersDir, type DownloadCachePaths } from "../../paths/index.ts";
import { headObject, readObjectResumably, type ObjectFacts, type S3Connection, type S3Location } from "../../remote/s3/index.ts";
import { acquireLock, type InstanceLock } from "../../store/lock.ts";
import { writeFileAtomic } from "../../util/atomic-write.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";

/**
 * An S3 download that outlives its process. Every byte fetched is appended to a local copy in
 * $SNAPVM_HOME/transfers/ (`import-HASH.part`, 0600, beside `import-HASH.json`: URL, ETag, size) before
 * the reader gets it, so the same import run again after Ctrl-C, kill -9 or a network failure reads what
 * it has from the copy and asks S3 only for the rest (a Range GET with If-Match on the same ETag). The
 * copy holds the object as stored: an encrypted bundle stays encrypted. It is removed once the import
 * succeeds, or when the bundle itself is at fault (fetching it again would give the same bytes); a
 * failure of the transfer, the key or the host keeps it. Bytes the copy lost in a host crash are caught
 * by the bundle's digests, which discards the copy.
 */
export interface ResumableDownload {
  stream: Readable;
  sizeBytes: number;
  /** Bytes an earlier run fetched, read from the local copy instead of S3. */
  resumedBytes: number;
  /** Bytes the local copy still grows by: the import's space check counts them. */
  remainingBytes: number;
  /** The import is done (or the bundle is bad): the copy and its record go. */
  discard(): Promise<void>;
  /** The import failed for another reason: the copy stays for the next run. */
  keep(): Promise<void>;
}

const recordSchema = z.object({ url: z.string().max(2048), etag: z.string().max(256).optional(), sizeBytes: z.number().int().min(0) });
type DownloadRecord = z.infer<typeof recordSchema>;

/** Errors that mean the bundle's bytes are at fault: the copy is worth nothing. */
const BAD_BUNDLE: readonly ErrorCode[] = [ErrorCode.BundleInvalid, ErrorCode.BundleVersion, ErrorCode.StateIncompatible];

export function isBundleAtFault(error: unknown): boolean {
  return isSnapvmError(error) && BAD_BUNDLE.includes(error.code);
}

async function readRecord(path: string): Promise<DownloadRecord | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined || text.length > 4096) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function sameObject(record: DownloadRecord | undefined, url: string, facts: ObjectFacts): boolean {
  return record !== undefined && record.url === url && record.sizeBytes === facts.size && record.etag === facts.etag;
}

async function takeLock(paths: DownloadCachePaths, url: string): Promise<InstanceLock> {
  try {
    return await acquireLock(paths.lock, url);
  } catch (error) {
    if (isSnapvmError(error) && error.code === ErrorCode.InstanceLocked) {
      throw new SnapvmError(ErrorCode.InstanceLocked, `another snapvm process is downloading ${url}`, {
        hint: "Wait for it to finish, or stop it; the next run resumes where it stopped.",
        cause: error,
      });
    }
    throw error;
  }
}

async function ensureRoom(home: string, bytes: number): Promise<void> {
  const fs = await statfs(transfersDir(home));
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    throw new SnapvmError(
      ErrorCode.NoSpace,
      `the download needs ${Math.ceil(bytes / 2 ** 20)} MiB in ${transfersDir(home)}, which has ${Math.floor(free / 2 ** 20)} MiB free`,
      {
        hint: "Free space there, or import into another SNAPVM_HOME.",
        details: { needBytes: bytes, freeBytes: free },
      },
    );
  }
}

export async function openResumableDownload(connection: S3Connection, location: S3Location, url: string, home: string): Promise<ResumableDownload> {
  await ensurePrivateDir(transfersDir(home));
  const paths = downloadCachePaths(url, home);
  const lock = await takeLock(paths, url);
  let part: FileHandle | undefined;
  const release = async (): Promise<void> => {
    await part?.close().catch(() => undefined);
    await lock.release();
  };
  try {
    const facts = await headObject(connection, location);
    let have = 0;
    if (sameObject(await readRecord(paths.record), url, facts)) {
      have = Math.min(facts.size, (await stat(paths.part).catch(() => undefined))?.size ?? 0);
    } else {
      await rm(paths.part, { force: true });
      const record: DownloadRecord = { url, sizeBytes: facts.size, ...(facts.etag === undefined ? {} : { etag: facts.etag }) };
      await writeFileAtomic(paths.record, JSON.stringify(record), PRIVATE_FILE_MODE);
    }
    await ensureRoom(home, facts.size - have);
    const handle = await open(paths.part, "a+", PRIVATE_FILE_MODE);
    part = handle;
    // A copy longer than the object (a stale or foreign file) is cut to what can be trusted.
    await handle.truncate(have);
    async function* bytes(): AsyncGenerator<Buffer> {
      if (have > 0) yield* createReadStream(paths.part, { start: 0, end: have - 1, highWaterMark: 4 * 2 ** 20 }) as AsyncIterable<Buffer>;
      if (have >= facts.size) return;
      for await (const chunk of readObjectResumably(connection, location, { from: { offset: have, facts } }) as AsyncIterable<Buffer>) {
        // Stored before it is passed on: whatever the reader got, a later run finds in the copy.
        await handle.write(chunk);
        yield chunk;
      }
    }
    return {
      stream: Readable.from(bytes(), { objectMode: false }),
      sizeBytes: facts.size,
      resumedBytes: have,
      remainingBytes: facts.size - have,
      discard: async () => {
        await release();
        await rm(paths.part, { force: true });
        await rm(paths.record, { force: true });
      },
      keep: release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}
