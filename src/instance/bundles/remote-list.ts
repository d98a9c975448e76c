import type { Identity } from "../../crypto/age/index.ts";
import { BundleReader } from "../../bundle/read.ts";
import { BUNDLE_LIMITS, type BundleManifest } from "../../bundle/format.ts";
import { isSnapvmError } from "../../errors/index.ts";
import { formatS3Url, getObjectStream, listObjects, parseS3Prefix, type ListedObject, type S3Connection } from "../../remote/s3/index.ts";
import { connect, type S3Options } from "./endpoints.ts";
import { plaintext } from "./plaintext.ts";

/** A listing reads at most this many objects' heads: one ranged GET each. */
const MAX_LISTED = 1000;
/** Enough of an object for its manifest, through age's 64 KiB chunks and header. */
const HEAD_BYTES = BUNDLE_LIMITS.manifestBytes + 256 * 1024;

export interface RemoteBundle {
  url: string;
  /** The object's size and when the store last wrote it. */
  sizeBytes: number;
  lastModified?: string;
  encrypted: boolean;
  /** From the manifest when it could be read (plain, or encrypted to a given --identity). */
  source?: { instance: string; tag: string; host: string };
  createdAt?: string;
  formatVersion?: string;
  /** Allocated bytes on the exporting host: memory (RAM file, device state or stream) and disk layers. */
  memoryBytes?: number;
  diskBytes?: number;
  /** Live offload (a migration stream) or a snapshot's own files. */
  live?: boolean;
  /** Why the manifest was not read: encrypted without a key for it, not a bundle, a newer format… */
  note?: string;
}

export interface RemoteListing {
  prefix: string;
  bundles: RemoteBundle[];
  /** More objects than a listing reads were there. */
  truncated: boolean;
}

function describe(manifest: BundleManifest): Partial<RemoteBundle> {
  const sum = (roles: readonly string[]): number => manifest.files.filter((f) => roles.includes(f.role)).reduce((total, f) => total + f.allocatedBytes, 0);
  return {
    source: manifest.source,
    createdAt: manifest.createdAt,
    formatVersion: manifest.formatVersion,
    memoryBytes: sum(["memory", "device-state", "memory-stream"]),
    diskBytes: sum(["disk-layer"]),
    live: manifest.files.some((f) => f.role === "memory-stream" && f.streamed === true),
  };
}

/** Reads one object's manifest from its first bytes; what cannot be read is said in `note`. */
async function head(connection: S3Connection, object: ListedObject, identities: readonly Identity[]): Promise<RemoteBundle> {
  const entry: RemoteBundle = {
    url: formatS3Url(object.location),
    sizeBytes: object.size,
    ...(object.lastModified === undefined ? {} : { lastModified: object.lastModified }),
    encrypted: false,
  };
  const body = await getObjectStream(connection, object.location, { start: 0, end: Math.max(0, Math.min(object.size, HEAD_BYTES) - 1) });
  try {
    const { stream, encrypted } = await plaintext(body, identities);
    entry.encrypted = encrypted;
    if (encrypted && identities.length === 0) return { ...entry, note: "encrypted (give --identity to read its manifest)" };
    return { ...entry, ...describe(await new BundleReader(stream).manifest()) };
  } catch (error) {
    if (!isSnapvmError(error)) throw error;
    return { ...entry, note: `${error.code}: ${error.message}` };
  } finally {
    body.destroy();
  }
}

/**
 * `snapvm snapshot list s3://BUCKET/PREFIX`: the bundles under a prefix, each described from its
 * manifest (read with one ranged GET of its first ~1.25 MiB; nothing else is downloaded). Objects
 * that are not bundles are listed with the reason.
 */
export async function listRemoteBundles(url: string, options: S3Options & { identities?: readonly Identity[] } = {}): Promise<RemoteListing> {
  const where = parseS3Prefix(url);
  const connection = await connect(options);
  const { objects, truncated } = await listObjects(connection, where, MAX_LISTED);
  const bundles: RemoteBundle[] = [];
  for (const object of objects) bundles.push(await head(connection, object, options.identities ?? []));
  return { prefix: url, bundles, truncated };
}
