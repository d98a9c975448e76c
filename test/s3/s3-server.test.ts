// Tier: real-server tests. Starts the project's own radosgw (scripts/s3-server.sh) in a private state dir
// on a private port, exercises src/remote/s3 against it, and stops it in after(), whatever happened.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { ErrorCode, isSnapvmError } from "../../src/errors/index.ts";
import { openResumableDownload } from "../../src/instance/bundles/download-cache.ts";
import { downloadCachePaths } from "../../src/paths/index.ts";
import {
  createS3Client,
  getObjectStream,
  headObject,
  parseS3Url,
  putObject,
  startResumableUpload,
  uploadMultipart,
  type S3Connection,
  type UploadProgress,
} from "../../src/remote/s3/index.ts";

const run = promisify(execFile);
const SCRIPT = new URL("../../scripts/s3-server.sh", import.meta.url).pathname;
const STATE_DIR = `/tmp/snapvm-s3-test-${process.pid}-${randomBytes(4).toString("hex")}`;
const BUCKET = "snapvm-test";
const MiB = 1024 * 1024;

/** A port free right now (the kernel's choice), closed again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

function script(command: string, port?: number): Promise<{ stdout: string; stderr: string }> {
  return run("bash", [SCRIPT, command], {
    env: { ...process.env, SNAPVM_S3_DIR: STATE_DIR, ...(port === undefined ? {} : { SNAPVM_S3_PORT: String(port) }) },
    timeout: 180_000,
  });
}

function recordedPids(): number[] {
  const file = `${STATE_DIR}/pids`;
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => Number(l.split(" ")[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(stream, hash);
  return hash.digest("hex");
}

/** Runs fn with the environment changed, as the SDK's default credential chain reads it on first request. */
async function withEnv<T>(changes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(changes).map((k) => [k, process.env[k]]));
  Object.assign(process.env, changes);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message: string, s3Code?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isSnapvmError(error, code), `expected ${code}, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.ok(error.hint !== undefined && error.hint.length > 0);
    if (s3Code !== undefined) assert.equal(error.details["s3Code"], s3Code);
    return true;
  });
}

describe("S3 client layer against the project's radosgw", { timeout: 600_000 }, () => {
  let endpoint = "";
  let connection: S3Connection | undefined;
  const s3 = (): S3Connection => {
    assert.ok(connection, "the server started");
    return connection;
  };
  let started: number[] = [];

  before(async () => {
    const port = await freePort();
    const t0 = performance.now();
    const { stdout } = await script("start", port);
    console.log(`# s3-server.sh start: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    started = recordedPids();
    const vars = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((line) => {
          const eq = line.indexOf("=");
          return [line.slice(0, eq), line.slice(eq + 1)];
        }),
    );
    assert.deepEqual(Object.keys(vars).sort(), ["AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_SECRET_ACCESS_KEY"]);
    assert.equal(vars["AWS_ENDPOINT_URL"], `http://127.0.0.1:${port}`);
    assert.equal(started.length, 3);
    // The client under test finds its credentials through the SDK's default chain, here the environment.
    for (const k of ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"]) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, vars, { AWS_EC2_METADATA_DISABLED: "true" });
    endpoint = vars["AWS_ENDPOINT_URL"] ?? "";
    connection = await createS3Client({ endpoint, maxAttempts: 1 });
    await connection.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    const pids = [...new Set([...started, ...recordedPids()])];
    connection?.client.destroy();
    await script("stop");
    assert.equal(existsSync(STATE_DIR), false, "stop removes the state dir");
    assert.deepEqual(pids.filter(alive), [], "no daemon the script started is still alive");
    // A second stop finds nothing and still succeeds.
    await script("stop");
  });

  test("start again reuses the running server and prints the same assignments", async () => {
    const again = await script("start");
    const env = await script("env");
    assert.equal(again.stdout, env.stdout);
    assert.match(again.stdout, new RegExp(`^AWS_ENDPOINT_URL=${endpoint}$`, "m"));
    assert.deepEqual(recordedPids(), started);
  });

  test("an object put through src/remote/s3 reads back whole and by range", async () => {
    const location = parseS3Url(`s3://${BUCKET}/objects/one.bin`);
    const body = randomBytes(MiB + 123);
    await putObject(s3(), location, body);
    const facts = await headObject(s3(), location);
    assert.equal(facts.size, body.length);
    assert.equal(facts.etag, `"${createHash("md5").update(body).digest("hex")}"`);
    assert.equal(await sha256(await getObjectStream(s3(), location)), createHash("sha256").update(body).digest("hex"));
    const part = await getObjectStream(s3(), location, { start: 1000, end: 1999 });
    const chunks: Buffer[] = [];
    for await (const chunk of part) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), body.subarray(1000, 2000));
  });

  test("a ~20 MiB stream goes up in 5 MiB parts with lib-storage and reads back equal", async () => {
    const location = parseS3Url(`s3://${BUCKET}/multipart/twenty.bin`);
    const size = 20 * MiB + 4321;
    const data = randomBytes(size);
    // A stream of uneven chunks: lib-storage must cut the parts itself (unknown length).
    const chunks = function* (): Generator<Buffer> {
      for (let at = 0; at < size; at += 777_777) yield data.subarray(at, Math.min(size, at + 777_777));
    };
    await uploadMultipart(s3(), location, Readable.from(chunks()), { partSize: 5 * MiB, queueSize: 4 });
    // CompleteMultipartUpload's ETag is empty on radosgw 16; HEAD has the real one: 5 parts.
    const facts = await headObject(s3(), location);
    assert.equal(facts.size, size);
    assert.match(facts.etag ?? "", /^"[0-9a-f]{32}-5"$/);
    assert.equal(await sha256(await getObjectStream(s3(), location)), createHash("sha256").update(data).digest("hex"));
  });

  test("a resumable upload continues another's stored parts by MD5, and refuses bytes that differ from them", async () => {
    const location = parseS3Url(`s3://${BUCKET}/multipart/resumed.bin`);
    const data = randomBytes(17 * MiB + 5);
    let progress: UploadProgress | undefined;
    const first = await startResumableUpload(s3(), location, {
      partSize: 5 * MiB,
      queueSize: 2,
      onProgress: (p) => {
        progress = p;
        return Promise.resolve();
      },
    });
    // The first run stores two parts and stops without completing (as a killed process would).
    await new Promise<void>((resolve, reject) => {
      first.writable.write(data.subarray(0, 11 * MiB), (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
    for (let i = 0; i < 200 && (progress?.parts.length ?? 0) < 2; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(progress?.parts.length, 2);
    const stored = progress;
    const differs = await startResumableUpload(s3(), location, { partSize: 5 * MiB, queueSize: 2, resume: stored });
    const tampered = Buffer.from(data);
    tampered.writeUInt8(tampered.readUInt8(6 * MiB) ^ 1, 6 * MiB);
    await assert.rejects(pipeline(Readable.from([tampered]), differs.writable), (error: unknown) => isSnapvmError(error, ErrorCode.RemoteFailed));
    const second = await startResumableUpload(s3(), location, { partSize: 5 * MiB, queueSize: 2, resume: stored });
    await pipeline(Readable.from([data]), second.writable);
    assert.deepEqual(await second.done, { resumedParts: 2, parts: 4 });
    assert.equal(await sha256(await getObjectStream(s3(), location)), createHash("sha256").update(data).digest("hex"));
  });

  test("an import's download kept across runs resumes from its local copy; another object at the URL starts again", async () => {
    const home = mkdtempSync(join(tmpdir(), "snapvm-s3-download-"));
    try {
      const url = `s3://${BUCKET}/downloads/kept.bin`;
      const location = parseS3Url(url);
      const body = randomBytes(9 * MiB + 77);
      await putObject(s3(), location, body);
      // A first run reads 3 MiB and stops (as Ctrl-C or a kill would): what it fetched is in the copy.
      const first = await openResumableDownload(s3(), location, url, home);
      assert.equal(first.resumedBytes, 0);
      let read = 0;
      for await (const chunk of first.stream) {
        read += (chunk as Buffer).length;
        if (read >= 3 * MiB) break;
      }
      await first.keep();
      const copy = downloadCachePaths(url, home);
      assert.ok(statSync(copy.part).size >= 3 * MiB, "the fetched bytes are kept");
      // While one run holds the download, another is refused.
      const second = await openResumableDownload(s3(), location, url, home);
      await assert.rejects(openResumableDownload(s3(), location, url, home), (e: unknown) => isSnapvmError(e) && e.code === ErrorCode.InstanceLocked);
      assert.ok(second.resumedBytes >= 3 * MiB, `resumed at ${second.resumedBytes}`);
      assert.equal(second.remainingBytes, body.length - second.resumedBytes);
      assert.equal(await sha256(second.stream), createHash("sha256").update(body).digest("hex"), "the copy and the rest make the object");
      await second.keep();
      // Another object under the same URL: the copy is not spliced into it.
      const other = randomBytes(2 * MiB);
      await putObject(s3(), location, other);
      const third = await openResumableDownload(s3(), location, url, home);
      assert.equal(third.resumedBytes, 0);
      assert.equal(await sha256(third.stream), createHash("sha256").update(other).digest("hex"));
      await third.discard();
      assert.deepEqual(readdirSync(join(home, "transfers")), [], "a finished import leaves nothing");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("a missing bucket is E_REMOTE_NOT_FOUND", async () => {
    const location = parseS3Url("s3://snapvm-no-such-bucket/k");
    await rejectsWith(
      putObject(s3(), location, "x"),
      ErrorCode.RemoteNotFound,
      `uploading s3://snapvm-no-such-bucket/k at ${endpoint}: bucket "snapvm-no-such-bucket" does not exist`,
      "NoSuchBucket",
    );
    await rejectsWith(
      getObjectStream(s3(), location),
      ErrorCode.RemoteNotFound,
      `reading s3://snapvm-no-such-bucket/k at ${endpoint}: bucket "snapvm-no-such-bucket" does not exist`,
      "NoSuchBucket",
    );
    await rejectsWith(
      getObjectStream(s3(), parseS3Url(`s3://${BUCKET}/no/such/key`)),
      ErrorCode.RemoteNotFound,
      `reading s3://${BUCKET}/no/such/key at ${endpoint}: no such object`,
      "NoSuchKey",
    );
  });

  test("a wrong secret or an unknown access key is E_REMOTE_DENIED (real SigV4 checks)", async () => {
    const location = parseS3Url(`s3://${BUCKET}/objects/one.bin`);
    await withEnv({ AWS_SECRET_ACCESS_KEY: "0".repeat(40) }, async () => {
      const wrong = await createS3Client({ endpoint, maxAttempts: 1 });
      await rejectsWith(
        putObject(wrong, location, "x"),
        ErrorCode.RemoteDenied,
        `uploading s3://${BUCKET}/objects/one.bin at ${endpoint}: the request signature does not match: the secret key is wrong for this access key`,
        "SignatureDoesNotMatch",
      );
      // HEAD answers carry no body, so only the status is known.
      await rejectsWith(
        headObject(wrong, location),
        ErrorCode.RemoteDenied,
        `looking up s3://${BUCKET}/objects/one.bin at ${endpoint}: access denied (HTTP 403)`,
      );
      wrong.client.destroy();
    });
    await withEnv({ AWS_ACCESS_KEY_ID: "AKIDSNAPVMUNKNOWN000" }, async () => {
      const unknown = await createS3Client({ endpoint, maxAttempts: 1 });
      await rejectsWith(
        getObjectStream(unknown, location),
        ErrorCode.RemoteDenied,
        `reading s3://${BUCKET}/objects/one.bin at ${endpoint}: the access key is not known to the server`,
        "InvalidAccessKeyId",
      );
      unknown.client.destroy();
    });
  });

  test("a refused connection is E_REMOTE_UNREACHABLE", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const nowhere = await createS3Client({ endpoint: closed, maxAttempts: 1 });
    await rejectsWith(
      putObject(nowhere, parseS3Url(`s3://${BUCKET}/k`), "x"),
      ErrorCode.RemoteUnreachable,
      `uploading s3://${BUCKET}/k at ${closed}: cannot reach the endpoint (ECONNREFUSED)`,
    );
    nowhere.client.destroy();
  });
});
