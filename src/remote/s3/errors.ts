import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/** What was being done, for the message: "uploading s3://b/k to http://127.0.0.1:8000". */
export interface S3ErrorContext {
  /** A gerund phrase: "uploading", "reading", "listing". */
  readonly action: string;
  readonly bucket: string;
  readonly key?: string;
  /** undefined: AWS. */
  readonly endpoint: string | undefined;
}

// The parts of the SDK's errors this module reads, checked by shape so that it needs no SDK import.
interface ServiceErrorShape {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

function isServiceError(error: unknown): error is ServiceErrorShape {
  if (!(error instanceof Error)) return false;
  const metadata = (error as { $metadata?: unknown }).$metadata;
  return typeof metadata === "object" && metadata !== null && typeof (error as { $fault?: unknown }).$fault === "string";
}

/** Node's network errnos that mean "the endpoint is not reachable", not "the server said no". */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

function networkCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && UNREACHABLE.has(code)) return code;
  // Node's happy-eyeballs connect (autoSelectFamily) rejects with an AggregateError of per-address errors.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = networkCode(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  // The SDK's request timeout.
  if (error.name === "TimeoutError") return "ETIMEDOUT";
  return undefined;
}

/** A connection that broke mid-transfer (reset, timed out, closed early): worth asking again from where it stopped. */
export function isBrokenTransfer(error: unknown): boolean {
  if (networkCode(error) !== undefined) return true;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ERR_STREAM_PREMATURE_CLOSE" || (error instanceof Error && error.message === "aborted");
}

/**
 * Turns an error of the AWS SDK into a SnapvmError a user can act on:
 * E_REMOTE_NOT_FOUND (no such bucket or object), E_REMOTE_DENIED (unknown access key, wrong secret, no
 * permission, no credentials), E_REMOTE_UNREACHABLE (refused, unresolvable, timed out), E_REMOTE_FAILED
 * (any other answer of the server, a missing region). Anything else (a bug) is returned unchanged, so
 * callers write `throw s3Error(error, context)`.
 */
export function s3Error(error: unknown, context: S3ErrorContext): unknown {
  const where = context.endpoint ?? "AWS S3";
  const target = context.key === undefined ? `bucket "${context.bucket}"` : `s3://${context.bucket}/${context.key}`;
  const what = `${context.action} ${target} at ${where}`;
  const details = { bucket: context.bucket, ...(context.key === undefined ? {} : { key: context.key }), endpoint: where };
  const make = (code: ErrorCode, why: string, hint: string, extra: Record<string, unknown> = {}): SnapvmError =>
    new SnapvmError(code, `${what}: ${why}`, { hint, cause: error, details: { ...details, ...extra } });

  if (isServiceError(error)) {
    const status = error.$metadata.httpStatusCode;
    const facts = { status, s3Code: error.name, requestId: error.$metadata.requestId };
    switch (error.name) {
      case "NoSuchBucket":
        return make(
          ErrorCode.RemoteNotFound,
          `bucket "${context.bucket}" does not exist`,
          "Check the bucket name and the endpoint (AWS_ENDPOINT_URL), or create the bucket first.",
          facts,
        );
      case "NoSuchKey":
        return make(ErrorCode.RemoteNotFound, "no such object", "Check the key; list the bucket to see what it holds.", facts);
      case "InvalidAccessKeyId":
        return make(
          ErrorCode.RemoteDenied,
          "the access key is not known to the server",
          "Check AWS_ACCESS_KEY_ID (or the profile's aws_access_key_id) and that it belongs to this endpoint.",
          facts,
        );
      case "SignatureDoesNotMatch":
        return make(
          ErrorCode.RemoteDenied,
          "the request signature does not match: the secret key is wrong for this access key",
          "Check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key).",
          facts,
        );
      case "AccessDenied":
        return make(ErrorCode.RemoteDenied, "access denied", "The credentials lack permission for this bucket or key; check the bucket's policy.", facts);
    }
    // Answers without a body (HEAD) carry only the status.
    if (status === 404) {
      return make(
        ErrorCode.RemoteNotFound,
        context.key === undefined ? "not found" : "no such object (or no such bucket)",
        "Check the bucket name, the key and the endpoint (AWS_ENDPOINT_URL).",
        facts,
      );
    }
    if (status === 403) {
      return make(
        ErrorCode.RemoteDenied,
        "access denied (HTTP 403)",
        "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile), and the permissions for this bucket.",
        facts,
      );
    }
    return make(
      ErrorCode.RemoteFailed,
      `the server answered ${error.name}${status === undefined ? "" : ` (HTTP ${status})`}`,
      "See the cause; retry if the server was busy.",
      facts,
    );
  }

  const network = networkCode(error);
  if (network !== undefined) {
    return make(
      ErrorCode.RemoteUnreachable,
      `cannot reach the endpoint (${network})`,
      context.endpoint === undefined
        ? "Check the network connection to AWS."
        : `Check that the S3 server at ${context.endpoint} is running and that AWS_ENDPOINT_URL is right.`,
      { errno: network },
    );
  }

  if (error instanceof Error && error.name === "CredentialsProviderError") {
    return make(
      ErrorCode.RemoteDenied,
      "no AWS credentials found",
      "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE for a profile in ~/.aws/credentials.",
    );
  }
  if (error instanceof Error && error.message === "Region is missing") {
    return make(ErrorCode.RemoteFailed, "no region configured", "Set AWS_REGION (any value for a custom endpoint, e.g. us-east-1).");
  }
  return error;
}
