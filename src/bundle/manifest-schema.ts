import { z } from "zod";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import {
  BUNDLE_FILE_ROLES,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_OLDEST,
  BUNDLE_FORMAT_VERSION,
  BUNDLE_LIMITS,
  FRAME_BYTES,
  type BundleManifest,
  type FileEnd,
  type Trailer,
} from "./format.ts";
import { invalidBundle } from "./errors.ts";

// Everything here parses untrusted JSON from a bundle: every string and number is bounded.
const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
const size = z.number().int().min(0).max(BUNDLE_LIMITS.fileBytes);
const text = z.string().max(256);
const digest = z.string().regex(/^[0-9a-f]{64}$/);

const fileSchema = z.object({
  name: fileName,
  role: z.enum(BUNDLE_FILE_ROLES),
  sizeBytes: size,
  allocatedBytes: size,
  backing: fileName.nullable().optional(),
  streamed: z.boolean().optional(),
});

const manifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  formatVersion: z.string().regex(/^\d{1,4}\.\d{1,4}\.\d{1,4}$/),
  createdAt: text,
  snapvmVersion: text,
  source: z.object({ instance: text, tag: text, host: text }),
  qemuVersion: text,
  accel: text,
  frameBytes: z.literal(FRAME_BYTES),
  config: z.string().max(256 * 1024),
  bootConfig: z.record(z.string(), z.unknown()).optional(),
  state: z.record(z.string(), z.unknown()),
  files: z.array(fileSchema).min(1).max(BUNDLE_LIMITS.files),
});

const fileEndSchema = z.object({
  name: fileName,
  sha256: digest,
  dataBytes: size,
  frames: z.array(z.tuple([size, size, z.number().int().min(0), z.number().int().min(0), digest])),
  sizeBytes: size.exactOptional(),
});

const trailerSchema = z.object({
  sha256: digest,
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  final: z.object({ pauseMs: z.number().min(0).max(86_400_000) }).exactOptional(),
});

function versionParts(version: string): number[] {
  return version.split(".").map(Number);
}

/**
 * Refuses a newer major, a newer minor of this major (it may carry what this reader would ignore), and a
 * minor older than BUNDLE_FORMAT_OLDEST (its digests are not the ones this reader checks).
 */
export function checkBundleVersion(version: string): void {
  const [major, minor] = versionParts(version);
  const [ownMajor, ownMinor] = versionParts(BUNDLE_FORMAT_VERSION);
  const [, oldestMinor] = versionParts(BUNDLE_FORMAT_OLDEST);
  if (major !== ownMajor || (minor ?? 0) > (ownMinor ?? 0) || (minor ?? 0) < (oldestMinor ?? 0)) {
    throw new SnapvmError(
      ErrorCode.BundleVersion,
      `the bundle has format version ${version}; this snapvm reads ${BUNDLE_FORMAT_OLDEST} up to ${BUNDLE_FORMAT_VERSION}`,
      {
        hint:
          (major ?? 0) > (ownMajor ?? 0) || (major === ownMajor && (minor ?? 0) > (ownMinor ?? 0))
            ? "Update snapvm on this host."
            : "Export it again with a newer snapvm.",
        details: { formatVersion: version, supported: BUNDLE_FORMAT_VERSION },
      },
    );
  }
}

export function parseBundleManifest(value: unknown): BundleManifest {
  // The version first: a newer bundle may well not match this reader's schema, and should say why.
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if ((value as { format?: unknown } | null)?.format === BUNDLE_FORMAT && typeof version === "string" && /^\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(version)) {
    checkBundleVersion(version);
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) throw invalidBundle("bad-manifest", `the bundle's manifest is not valid: ${z.prettifyError(parsed.error).slice(0, 500)}`);
  const names = new Set<string>();
  for (const file of parsed.data.files) {
    if (names.has(file.name)) throw invalidBundle("bad-manifest", `the bundle lists ${file.name} twice`);
    names.add(file.name);
  }
  return parsed.data as BundleManifest;
}

export function parseFileEnd(value: unknown): FileEnd {
  const parsed = fileEndSchema.safeParse(value);
  if (!parsed.success) throw invalidBundle("bad-record", "a file-end record of the bundle is not valid");
  return parsed.data;
}

export function parseTrailer(value: unknown): Trailer {
  const parsed = trailerSchema.safeParse(value);
  if (!parsed.success) throw invalidBundle("bad-record", "the bundle's trailer is not valid");
  return parsed.data;
}
