import { join } from "node:path";
import type { BundleFileRole } from "../../bundle/format.ts";
import type { BundleSource } from "../../bundle/write.ts";
import type { Recipient } from "../../crypto/age/index.ts";
import { diskLayerPath, instancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { decompressSnapshot } from "../snapshots/compress.ts";
import { snapshotDetails } from "../snapshots/list.ts";
import { discardUpload } from "../../remote/s3/index.ts";
import { connect, describeEndpoint, type Endpoint, type S3Options } from "./endpoints.ts";
import { isStaleUpload, sendBundle, type SendOptions } from "./send.ts";
import { keyMaterialOf, readRecord, recipientsDigest, recordPath, removeRecord, writeRecord, type ExportRecord } from "./resume-record.ts";
import { bundleManifest, diskChainSources, fileSource, launchFileSources } from "./sources.ts";

export interface ExportOptions extends S3Options {
  home?: string;
  recipients?: readonly Recipient[];
  /** zstd level of the frames, 1–19 (default 3). */
  level?: number;
  onProgress?: (step: string) => void;
  /** Aborting it (Ctrl-C) stops the export; the destination is left as it was. */
  signal?: AbortSignal;
}

export interface ExportResult {
  instance: string;
  tag: string;
  to: string;
  encrypted: boolean;
  files: { name: string; role: BundleFileRole; sizeBytes: number; allocatedBytes: number }[];
  /** Bytes of the bundle before encryption, and raw data bytes the frames carry (holes and zero frames not sent). */
  bundleBytes: number;
  dataBytes: number;
  /** What reached the destination (the age file when encrypted). */
  sentBytes: number;
  /** S3: parts an earlier, interrupted run of the same export had stored, checked and not sent again. */
  resumedParts?: number;
  totalMs: number;
  megabytesPerSecond: number;
}

/** The record of this export's upload, new or found (same snapshot, level and recipients), and hooks that keep it current. */
async function resumableUpload(
  endpoint: Endpoint,
  s3: S3Options,
  facts: { name: string; tag: string; level: number; recipients: readonly Recipient[]; snapshotCreatedAt: string },
  home: string | undefined,
): Promise<{ path: string; record: ExportRecord; hooks: NonNullable<SendOptions["resume"]>; flush: () => Promise<void> }> {
  const url = describeEndpoint(endpoint);
  const path = recordPath(url, home);
  const fresh: ExportRecord = {
    url,
    instance: facts.name,
    tag: facts.tag,
    snapshotCreatedAt: facts.snapshotCreatedAt,
    level: facts.level,
    recipients: recipientsDigest(facts.recipients),
    manifestCreatedAt: new Date().toISOString(),
  };
  const found = await readRecord(path);
  const same =
    found !== undefined &&
    (["url", "instance", "tag", "snapshotCreatedAt", "level", "recipients"] as const).every((field) => found[field] === fresh[field]) &&
    (facts.recipients.length === 0) === (found.keyMaterial === undefined);
  // A record of another export to the same URL (another snapshot, level or recipients): its upload goes.
  if (!same && found?.upload !== undefined && endpoint.kind === "s3") {
    await discardUpload(await connect(s3), endpoint.location, found.upload.uploadId);
  }
  let record = same ? found : fresh;
  const keyMaterial = keyMaterialOf(record);
  let saving = Promise.resolve();
  const save = (change: Partial<ExportRecord>): Promise<void> => {
    record = { ...record, ...change };
    const snapshot = record;
    saving = saving.then(() => writeRecord(path, snapshot, home));
    return saving;
  };
  return {
    path,
    record,
    flush: () => saving,
    hooks: {
      ...(record.upload === undefined ? {} : { progress: record.upload }),
      ...(keyMaterial === undefined ? {} : { keyMaterial }),
      onProgress: (upload) => save({ upload }),
      onKeyMaterial: (material) => {
        void save({ keyMaterial: { fileKey: material.fileKey.toString("base64"), prefix: material.prefix.toString("base64") } });
      },
    },
  };
}

/**
 * `snapvm snapshot export NAME TAG --to DEST`: the snapshot, its disk chain down to the base, the boot
 * files its launch names and the instance's config, as one bundle (docs/bundle-format.md), optionally
 * age-encrypted on the way. Nothing is written locally but the destination (a temp name renamed into
 * place, or an upload aborted on failure).
 */
export async function exportSnapshot(name: InstanceName, tag: SnapshotTag, endpoint: Endpoint, options: ExportOptions = {}): Promise<ExportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  let details = await snapshotDetails(name, tag, options.home);
  if (details.compressed) {
    progress("decompressing the snapshot");
    await decompressSnapshot(name, tag, options.home === undefined ? {} : { home: options.home });
    details = await snapshotDetails(name, tag, options.home);
  }
  const paths = instancePaths(name, options.home);
  const state = details.manifest;
  const sources: BundleSource[] = [];
  for (const file of state.files) {
    if (file.name.includes("/")) throw new Error(`snapshot file ${file.name} is outside the snapshot directory`);
    sources.push(await fileSource(join(details.dir, file.name), file.name, file.role));
  }
  sources.push(...(await diskChainSources(diskLayerPath(paths, details.diskLayer))));
  sources.push(...(await launchFileSources(paths, state.launch.spec)));
  const recipients = options.recipients ?? [];
  const level = options.level ?? 3;
  // To S3, an interrupted export resumes: the same bundle bytes again (createdAt, age key material from the record).
  const resumable =
    endpoint.kind === "s3"
      ? await resumableUpload(endpoint, options, { name, tag, level, recipients, snapshotCreatedAt: state.createdAt }, options.home)
      : undefined;
  const manifest = await bundleManifest(paths, { instance: name, tag }, state, sources, resumable?.record.manifestCreatedAt);
  const totalData = sources.reduce((sum, s) => sum + s.entry.allocatedBytes, 0);
  progress(`exporting ${name}@${tag} to ${describeEndpoint(endpoint)}${resumable?.record.upload === undefined ? "" : " (resuming the upload begun before)"}`);
  const figures = await sendBundle(manifest, sources, endpoint, {
    ...options,
    ...(resumable === undefined ? {} : { resume: resumable.hooks }),
    onData: (bytes) => {
      progress(`sending ${Math.round(bytes / 2 ** 20)} of ~${Math.round(totalData / 2 ** 20)} MiB`);
    },
  }).catch(async (error: unknown) => {
    // The stale upload was removed; so goes its record, and the next run starts clean.
    if (resumable !== undefined && isStaleUpload(error)) await resumable.flush().then(() => removeRecord(resumable.path));
    throw error;
  });
  if (resumable !== undefined) await resumable.flush().then(() => removeRecord(resumable.path));
  const totalMs = performance.now() - started;
  return {
    instance: name,
    tag,
    to: describeEndpoint(endpoint),
    encrypted: recipients.length > 0,
    files: sources.map(({ entry }) => ({ name: entry.name, role: entry.role, sizeBytes: entry.sizeBytes, allocatedBytes: entry.allocatedBytes })),
    bundleBytes: figures.bytes,
    dataBytes: figures.dataBytes,
    sentBytes: figures.sentBytes,
    ...(figures.resumedParts === undefined ? {} : { resumedParts: figures.resumedParts }),
    totalMs,
    megabytesPerSecond: figures.dataBytes / 2 ** 20 / (totalMs / 1000),
  };
}
