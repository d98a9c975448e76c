import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import type { AgeKeyMaterial, Recipient } from "../../crypto/age/index.ts";
import { exportRecordPath, transfersDir } from "../../paths/index.ts";
import type { UploadProgress } from "../../remote/s3/index.ts";
import { writeFileAtomic } from "../../util/atomic-write.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";

/**
 * What an interrupted export to S3 needs to resume: the same bundle bytes (the manifest's createdAt,
 * the age key material) and the upload's stored parts. Kept in $SNAPVM_HOME/transfers/ (0700, files
 * 0600: it holds the file key, which decrypts the bundle), removed once the upload completes.
 */
export interface ExportRecord {
  url: string;
  instance: string;
  tag: string;
  /** The snapshot's own createdAt: a snapshot taken again under the tag is another bundle. */
  snapshotCreatedAt: string;
  level: number;
  /** SHA-256 of the recipients: other recipients make another file. */
  recipients: string;
  manifestCreatedAt: string;
  upload?: UploadProgress;
  keyMaterial?: { fileKey: string; prefix: string };
}

const recordSchema = z.object({
  url: z.string().max(2048),
  instance: z.string().max(64),
  tag: z.string().max(64),
  snapshotCreatedAt: z.string().max(64),
  level: z.number().int(),
  recipients: z.string().regex(/^[0-9a-f]{64}$/),
  manifestCreatedAt: z.string().max(64),
  upload: z
    .object({
      uploadId: z.string().max(1024),
      partSize: z.number().int().positive(),
      parts: z.array(z.object({ number: z.number().int().positive(), etag: z.string().max(256), sizeBytes: z.number().int().min(0) })).max(10_000),
    })
    .exactOptional(),
  keyMaterial: z.object({ fileKey: z.string().max(64), prefix: z.string().max(1_000_000) }).exactOptional(),
});

export function recordPath(url: string, home?: string): string {
  return exportRecordPath(url, home);
}

export function recipientsDigest(recipients: readonly Recipient[]): string {
  const hash = createHash("sha256");
  for (const r of recipients)
    hash.update(
      r.kind === "x25519" ? Buffer.concat([Buffer.from("x25519:"), r.publicKey]) : Buffer.concat([Buffer.from(`scrypt:${r.workFactor}:`), r.passphrase]),
    );
  return hash.digest("hex");
}

/** The record at `path`, or undefined (none, or not one of ours: then it is ignored and overwritten). */
export async function readRecord(path: string): Promise<ExportRecord | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined || text.length > 2_000_000) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRecord(path: string, record: ExportRecord, home?: string): Promise<void> {
  await ensurePrivateDir(transfersDir(home));
  await writeFileAtomic(path, JSON.stringify(record), PRIVATE_FILE_MODE);
}

/** Removes the record, and any temp copy a process killed mid-write left beside it. */
export async function removeRecord(path: string): Promise<void> {
  await rm(path, { force: true });
  const temps = `.${basename(path)}.tmp-`;
  for (const name of await readdir(dirname(path)).catch(() => [])) {
    if (name.startsWith(temps)) await rm(join(dirname(path), name), { force: true });
  }
}

export function keyMaterialOf(record: ExportRecord): AgeKeyMaterial | undefined {
  const k = record.keyMaterial;
  return k === undefined ? undefined : { fileKey: Buffer.from(k.fileKey, "base64"), prefix: Buffer.from(k.prefix, "base64") };
}
