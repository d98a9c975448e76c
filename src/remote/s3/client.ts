import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";

export interface S3ConnectOptions {
  /**
   * An S3-compatible endpoint (radosgw, MinIO, ...). Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL,
   * then AWS itself.
   */
  endpoint?: string;
  /** Default: the SDK's chain (AWS_REGION, AWS_DEFAULT_REGION, the profile's region). */
  region?: string;
  /** A profile of ~/.aws/config and ~/.aws/credentials. Default: AWS_PROFILE, then "default". */
  profile?: string;
  /** Attempts per request, the first included (SDK default 3). */
  maxAttempts?: number;
}

/** An S3Client and the endpoint it talks to (undefined: AWS), for messages that name it. */
export interface S3Connection {
  readonly client: S3Client;
  readonly endpoint: string | undefined;
}

/** The endpoint an explicit option or the environment chooses; undefined means AWS. */
export function resolveEndpoint(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = explicit ?? env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"];
  return chosen === undefined || chosen === "" ? undefined : chosen;
}

/** The client configuration createS3Client uses; separate so it can be checked without the SDK. */
export function s3ClientConfig(options: S3ConnectOptions, env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = resolveEndpoint(options.endpoint, env);
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(endpoint === undefined
      ? {}
      : {
          endpoint,
          // Custom endpoints rarely have wildcard DNS for bucket.host names.
          forcePathStyle: true,
          // The SDK's default (since 3.729) signs streaming uploads with trailing CRC32 checksums, which
          // radosgw 16 answers with 411 MissingContentLength; checksums only where an operation demands one.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
        }),
  };
}

/**
 * An S3Client with the SDK's default credential chain (environment, profile, SSO, container and instance
 * metadata) and, for a custom endpoint, path-style addressing. The SDK is imported here, on first use,
 * never at module load: commands that never touch S3 (resume) must not pay for loading it.
 */
export async function createS3Client(options: S3ConnectOptions = {}): Promise<S3Connection> {
  // snapvm pins the SDK at ~3.1169 for Node 20 (DESIGN.md §5); its notice that later versions need Node 22
  // is for snapvm's developers, not for every user's terminal.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const { S3Client: Client } = await import("@aws-sdk/client-s3");
  return { client: new Client(s3ClientConfig(options)), endpoint: resolveEndpoint(options.endpoint) };
}
