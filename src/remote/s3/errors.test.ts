import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { s3Error, type S3ErrorContext } from "./errors.ts";

// Shapes as @aws-sdk/client-s3 3.1169 throws them against radosgw 16 (recorded by hand).
function serviceError(name: string, status: number): Error {
  return Object.assign(new Error("UnknownError"), { name, $fault: "client", $metadata: { httpStatusCode: status, requestId: "tx1" } });
}
const ctx: S3ErrorContext = { action: "uploading", bucket: "b1", key: "k/1", endpoint: "http://127.0.0.1:9" };

function mapped(error: unknown, code: ErrorCode, message: string): void {
  const result = s3Error(error, ctx);
  assert.ok(isSnapvmError(result, code), `expected ${code}, got ${String(result)}`);
  assert.equal(result.message, message);
  assert.ok(result.hint !== undefined && result.hint.length > 0);
  assert.equal(result.cause, error);
}

test("server answers map to not found / denied / failed", () => {
  const at = "uploading s3://b1/k/1 at http://127.0.0.1:9";
  mapped(serviceError("NoSuchBucket", 404), ErrorCode.RemoteNotFound, `${at}: bucket "b1" does not exist`);
  mapped(serviceError("NoSuchKey", 404), ErrorCode.RemoteNotFound, `${at}: no such object`);
  mapped(serviceError("NotFound", 404), ErrorCode.RemoteNotFound, `${at}: no such object (or no such bucket)`);
  mapped(serviceError("InvalidAccessKeyId", 403), ErrorCode.RemoteDenied, `${at}: the access key is not known to the server`);
  mapped(
    serviceError("SignatureDoesNotMatch", 403),
    ErrorCode.RemoteDenied,
    `${at}: the request signature does not match: the secret key is wrong for this access key`,
  );
  mapped(serviceError("AccessDenied", 403), ErrorCode.RemoteDenied, `${at}: access denied`);
  mapped(serviceError("Unknown", 403), ErrorCode.RemoteDenied, `${at}: access denied (HTTP 403)`);
  mapped(serviceError("SlowDown", 503), ErrorCode.RemoteFailed, `${at}: the server answered SlowDown (HTTP 503)`);
});

test("network failures map to unreachable", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED", $metadata: { attempts: 1 } });
  mapped(refused, ErrorCode.RemoteUnreachable, "uploading s3://b1/k/1 at http://127.0.0.1:9: cannot reach the endpoint (ECONNREFUSED)");
  const both = new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })], "");
  mapped(both, ErrorCode.RemoteUnreachable, "uploading s3://b1/k/1 at http://127.0.0.1:9: cannot reach the endpoint (ECONNREFUSED)");
  const dns = Object.assign(new Error("getaddrinfo ENOTFOUND h"), { code: "ENOTFOUND" });
  mapped(dns, ErrorCode.RemoteUnreachable, "uploading s3://b1/k/1 at http://127.0.0.1:9: cannot reach the endpoint (ENOTFOUND)");
});

test("missing credentials and region are named", () => {
  const noCreds = Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
  mapped(noCreds, ErrorCode.RemoteDenied, "uploading s3://b1/k/1 at http://127.0.0.1:9: no AWS credentials found");
  mapped(new Error("Region is missing"), ErrorCode.RemoteFailed, "uploading s3://b1/k/1 at http://127.0.0.1:9: no region configured");
});

test("a bucket-level context and AWS itself are named; bugs pass through unchanged", () => {
  const result = s3Error(serviceError("NoSuchBucket", 404), { action: "listing", bucket: "b1", endpoint: undefined });
  assert.ok(isSnapvmError(result, ErrorCode.RemoteNotFound));
  assert.equal(result.message, 'listing bucket "b1" at AWS S3: bucket "b1" does not exist');
  const bug = new TypeError("x is not a function");
  assert.equal(s3Error(bug, ctx), bug);
  assert.equal(s3Error("a string", ctx), "a string");
});
