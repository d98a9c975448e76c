import { test } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError, ErrorCode } from "../../errors/index.ts";
import { formatS3Url, MAX_KEY_BYTES, parseS3Prefix, parseS3Url } from "./url.ts";

function rejects(url: string, message: string): void {
  assert.throws(
    () => parseS3Url(url),
    (error: unknown) => {
      assert.ok(isSnapvmError(error, ErrorCode.InvalidArgument), `expected E_INVALID_ARGUMENT, got ${String(error)}`);
      assert.equal(error.message, `invalid S3 URL "${url}": ${message}`);
      assert.ok(error.hint !== undefined && error.hint.length > 0);
      assert.deepEqual(error.details, { url, reason: message });
      return true;
    },
  );
}

test("valid URLs parse into bucket and key, and format back to themselves", () => {
  const cases: [string, string, string][] = [
    ["s3://snapvm-exports/vm1/2026-12-02T15:20:17Z.snap", "snapvm-exports", "vm1/2026-12-02T15:20:17Z.snap"],
    ["s3://abc/k", "abc", "k"],
    ["s3://my.bucket.1/a/b/c/", "my.bucket.1", "a/b/c/"],
    ["s3://b-2/x=1,y+2;z@3:(v)!'*&$.tar.zst", "b-2", "x=1,y+2;z@3:(v)!'*&$.tar.zst"],
    ["s3://b12/...hidden/..x/x..", "b12", "...hidden/..x/x.."],
    [`s3://${"a".repeat(63)}/k`, "a".repeat(63), "k"],
  ];
  for (const [url, bucket, key] of cases) {
    const location = parseS3Url(url);
    assert.equal(location.bucket, bucket, url);
    assert.equal(location.key, key, url);
    assert.equal(formatS3Url(location), url);
    assert.deepEqual(parseS3Url(formatS3Url(location)), location);
  }
});

test("the scheme is exactly s3://", () => {
  rejects("https://b/k", 'it must begin with "s3://"');
  rejects("S3://bucket/k", 'it must begin with "s3://"');
  rejects("s3:/bucket/k", 'it must begin with "s3://"');
  rejects("bucket/k", 'it must begin with "s3://"');
  rejects("", 'it must begin with "s3://"');
});

test("bucket names follow S3's rules", () => {
  rejects("s3:///k", "the bucket name is missing");
  rejects("s3://", "the bucket name is missing");
  rejects("s3://ab/k", 'bucket name "ab" must be 3 to 63 characters long');
  rejects(`s3://${"a".repeat(64)}/k`, `bucket name "${"a".repeat(64)}" must be 3 to 63 characters long`);
  const chars = (name: string): string =>
    `bucket name "${name}" may hold only lowercase letters, digits, "." and "-", and must begin and end with a letter or digit`;
  rejects("s3://Bucket/k", chars("Bucket"));
  rejects("s3://my_bucket/k", chars("my_bucket"));
  rejects("s3://-bucket/k", chars("-bucket"));
  rejects("s3://bucket-/k", chars("bucket-"));
  rejects("s3://bucket./k", chars("bucket."));
  rejects("s3://user@bucket/k", chars("user@bucket"));
  rejects("s3://host:9000/k", chars("host:9000"));
  rejects("s3://a..b/k", 'bucket name "a..b" must not contain ".."');
  rejects("s3://192.168.1.10/k", 'bucket name "192.168.1.10" must not look like an IP address');
  rejects("s3://xn--abc/k", 'bucket name "xn--abc" must not begin with the reserved "xn--"');
  rejects("s3://sthree-abc/k", 'bucket name "sthree-abc" must not begin with the reserved "sthree-"');
  rejects("s3://abc-s3alias/k", 'bucket name "abc-s3alias" must not end with the reserved "-s3alias"');
  rejects("s3://abc--ol-s3/k", 'bucket name "abc--ol-s3" must not end with the reserved "--ol-s3"');
});

test("a key is required and at most 1024 bytes", () => {
  rejects("s3://bucket", "the object key is missing");
  rejects("s3://bucket/", "the object key is missing");
  const longest = "k".repeat(MAX_KEY_BYTES);
  assert.equal(parseS3Url(`s3://bucket/${longest}`).key, longest);
  rejects(`s3://bucket/${longest}x`, "the object key is 1025 bytes long; S3 allows at most 1024");
  // Bytes, not characters: 600 "é" are 1200 bytes.
  rejects(`s3://bucket/${"é".repeat(600)}`, "the object key is 1200 bytes long; S3 allows at most 1024");
});

test("keys are literal ASCII: no percent-escapes, queries, fragments, spaces, controls or non-ASCII", () => {
  const allowed = `allowed are ASCII letters, digits, "/" and !-_.*'()&$@=;:+,`;
  rejects("s3://bucket/a%20b", `the object key contains "%"; ${allowed}`);
  rejects("s3://bucket/a?versionId=1", `the object key contains "?"; ${allowed}`);
  rejects("s3://bucket/a#b", `the object key contains "#"; ${allowed}`);
  rejects("s3://bucket/a b", `the object key contains " "; ${allowed}`);
  rejects("s3://bucket/a\nb", `the object key contains "\\n"; ${allowed}`);
  rejects("s3://bucket/a\u0000b", `the object key contains "\\u0000"; ${allowed}`);
  rejects("s3://bucket/a\\b", `the object key contains "\\\\"; ${allowed}`);
  rejects("s3://bucket/caf\u00e9", `the object key contains "\u00e9"; ${allowed}`);
  rejects("s3://bucket/\u{1F600}", `the object key contains "\u{1F600}"; ${allowed}`);
  for (const c of ["{", "}", "^", "`", "[", "]", '"', "<", ">", "~", "|"]) {
    rejects(`s3://bucket/a${c}`, `the object key contains ${JSON.stringify(c)}; ${allowed}`);
  }
});

test("keys have no path surprises: no leading /, no empty, . or .. segments", () => {
  rejects("s3://bucket//k", 'the object key begins with "/"');
  rejects("s3://bucket/a//b", 'the object key contains an empty segment ("//")');
  rejects("s3://bucket/a/b//", 'the object key contains an empty segment ("//")');
  rejects("s3://bucket/..", 'the object key contains a "." or ".." segment');
  rejects("s3://bucket/a/../b", 'the object key contains a "." or ".." segment');
  rejects("s3://bucket/../etc/passwd", 'the object key contains a "." or ".." segment');
  rejects("s3://bucket/a/./b", 'the object key contains a "." or ".." segment');
  rejects("s3://bucket/a/..", 'the object key contains a "." or ".." segment');
  rejects("s3://bucket/./", 'the object key contains a "." or ".." segment');
});

test("a listing prefix may be the whole bucket, and is held to the key rules otherwise", () => {
  assert.deepEqual(parseS3Prefix("s3://bundles"), { bucket: "bundles", prefix: "" });
  assert.deepEqual(parseS3Prefix("s3://bundles/"), { bucket: "bundles", prefix: "" });
  assert.deepEqual(parseS3Prefix("s3://bundles/vm/"), { bucket: "bundles", prefix: "vm/" });
  for (const bad of ["s3://", "s3://Bad_Bucket", "s3://bundles/../x", "s3://bundles//x"]) {
    assert.throws(
      () => parseS3Prefix(bad),
      (error: unknown) => isSnapvmError(error) && error.code === ErrorCode.InvalidArgument,
      bad,
    );
  }
});
