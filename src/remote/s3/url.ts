import { ErrorCode, SnapvmError } from "../../errors/index.ts";

declare const bucketBrand: unique symbol;
declare const keyBrand: unique symbol;
/** A bucket name that passed parseS3Url's rules. */
export type S3Bucket = string & { readonly [bucketBrand]: true };
/** An object key that passed parseS3Url's rules. */
export type S3Key = string & { readonly [keyBrand]: true };

/** A parsed `s3://BUCKET/KEY`: the only way an object location reaches code that talks to S3. */
export interface S3Location {
  readonly bucket: S3Bucket;
  readonly key: S3Key;
}

const SCHEME = "s3://";
/** S3's own limit, in UTF-8 bytes (a valid key is ASCII, so also characters). */
export const MAX_KEY_BYTES = 1024;

// AWS's general-purpose bucket rules: 3-63 characters of a-z, 0-9, "." and "-", a letter or digit at both
// ends, no "..", not shaped like an IPv4 address, and none of the prefixes and suffixes AWS reserves.
const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;
const IPV4_SHAPED = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

// Key characters: printable ASCII without the ones AWS tells clients to avoid (\ { } ^ % ` [ ] " < > ~ # |),
// without "?" (a URL's query) and without whitespace. So a key is taken literally: no percent-decoding,
// no question of what "%20" or "a#b" means, and it looks the same in a shell, a URL and a log line.
const KEY_CHARS = /^[A-Za-z0-9!\-_.*'()/&$@=;:+,]+$/;
const KEY_BAD_CHAR = /[^A-Za-z0-9!\-_.*'()/&$@=;:+,]/u;

function invalid(url: string, reason: string, hint: string): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidArgument, `invalid S3 URL "${url}": ${reason}`, {
    hint,
    details: { url, reason },
  });
}

/** Why a bucket name breaks the rules, or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `bucket name "${name}" must be 3 to 63 characters long`;
  if (!BUCKET_CHARS.test(name)) {
    return `bucket name "${name}" may hold only lowercase letters, digits, "." and "-", and must begin and end with a letter or digit`;
  }
  if (name.includes("..")) return `bucket name "${name}" must not contain ".."`;
  if (IPV4_SHAPED.test(name)) return `bucket name "${name}" must not look like an IP address`;
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) return `bucket name "${name}" must not begin with the reserved "${prefix}"`;
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix !== undefined) return `bucket name "${name}" must not end with the reserved "${suffix}"`;
  return undefined;
}

/** Why an object key breaks the rules, or undefined when it is valid. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return "the object key is empty";
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES) return `the object key is ${bytes} bytes long; S3 allows at most ${MAX_KEY_BYTES}`;
  if (!KEY_CHARS.test(key)) {
    const bad = KEY_BAD_CHAR.exec(key)?.[0] ?? "";
    return `the object key contains ${JSON.stringify(bad)}; allowed are ASCII letters, digits, "/" and !-_.*'()&$@=;:+,`;
  }
  // Keys are not paths to S3, but tools that map them to files or normalise URLs treat "." and ".." as
  // directory steps and "a//b" as "a/b": refuse them so one key cannot mean two objects.
  const segments = key.split("/");
  if (key.startsWith("/")) return 'the object key begins with "/"';
  if (segments.slice(0, -1).includes("")) return 'the object key contains an empty segment ("//")';
  if (segments.some((s) => s === "." || s === "..")) return 'the object key contains a "." or ".." segment';
  return undefined;
}

/**
 * Parses `s3://BUCKET/KEY` strictly (see bucketNameProblem and keyProblem). A key may end with "/" (a
 * prefix); it may not be empty. Throws E_INVALID_ARGUMENT naming the URL and the first problem found.
 */
export function parseS3Url(url: string): S3Location {
  if (!url.startsWith(SCHEME)) {
    throw invalid(url, `it must begin with "${SCHEME}"`, "Write the location as s3://BUCKET/KEY.");
  }
  const rest = url.slice(SCHEME.length);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket.length === 0) throw invalid(url, "the bucket name is missing", "Write the location as s3://BUCKET/KEY.");
  const bucketWhy = bucketNameProblem(bucket);
  if (bucketWhy !== undefined) {
    throw invalid(url, bucketWhy, 'Use a bucket name of 3-63 lowercase letters, digits, "." and "-".');
  }
  if (slash === -1 || slash === rest.length - 1) {
    throw invalid(url, "the object key is missing", `Name the object after the bucket: s3://${bucket}/KEY.`);
  }
  const key = rest.slice(slash + 1);
  const keyWhy = keyProblem(key);
  if (keyWhy !== undefined) {
    throw invalid(url, keyWhy, 'Use a key of ASCII letters, digits and /-_.!*\'()&$@=;:+, with no ".", ".." or empty segments.');
  }
  return { bucket: bucket as S3Bucket, key: key as S3Key };
}

/** Where a listing looks: a bucket and a key prefix, which may be empty (the whole bucket). */
export interface S3Prefix {
  readonly bucket: S3Bucket;
  readonly prefix: string;
}

/** Parses `s3://BUCKET`, `s3://BUCKET/` or `s3://BUCKET/PREFIX` with the same rules as parseS3Url. */
export function parseS3Prefix(url: string): S3Prefix {
  const bare = /^s3:\/\/[^/]*\/?$/.test(url);
  if (!bare) {
    const location = parseS3Url(url);
    return { bucket: location.bucket, prefix: location.key };
  }
  const bucket = parseS3Url(`${url.replace(/\/$/, "")}/x`).bucket;
  return { bucket, prefix: "" };
}

/** The canonical `s3://BUCKET/KEY` of a parsed location; parseS3Url(formatS3Url(x)) equals x. */
export function formatS3Url(location: S3Location): string {
  return `${SCHEME}${location.bucket}/${location.key}`;
}
