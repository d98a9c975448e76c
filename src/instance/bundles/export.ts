import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, FRAME_BYTES, type BundleFile, type BundleFileRole, type BundleManifest } from "../../bundle/format.ts";
import { writeBundle, type BundleSource } from "../../bundle/write.ts";
import { createEncryptStream, type Recipient } from "../../crypto/age/index.ts";
import { driver } from "../../driver/index.ts";
import { diskLayerPath, instancePaths, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { snapvmVersion } from "../../util/snapvm-version.ts";
import { readPinnedConfig } from "../boot/pinned-boot.ts";
import { decompressSnapshot } from "../snapshots/compress.ts";
import { snapshotDetails } from "../snapshots/list.ts";
import { describeEndpoint, openSink, type Endpoint, type S3Options } from "./endpoints.ts";

export interface ExportOptions extends S3Options {
  home?: string;
  recipients?: readonly Recipient[];
  /** zstd level of the frames, 1–19 (default 3). */
  level?: number;
  onProgress?: (step: string) => void;
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
  totalMs: number;
  megabytesPerSecond: number;
}

async function source(path: string, name: string, role: BundleFileRole, backing?: string | null): Promise<BundleSource> {
  const facts = await stat(path);
  const entry: BundleFile = { name, role, sizeBytes: facts.size, allocatedBytes: facts.blocks * 512, ...(backing === undefined ? {} : { backing }) };
  return { entry, path };
}

/** The snapshot's disk layer and every layer under it, base first; each names the one below. */
async function diskChain(top: string): Promise<BundleSource[]> {
  const chain: string[] = [];
  for (let layer: string | undefined = top; layer !== undefined; layer = (await driver.disks.facts(layer)).backingFile) {
    if (chain.includes(layer) || chain.length >= 64) throw new Error(`the disk chain of ${top} loops or is over 64 layers deep`);
    chain.push(layer);
  }
  chain.reverse();
  return Promise.all(chain.map((layer, i) => source(layer, basename(layer), "disk-layer", i === 0 ? null : basename(chain[i - 1] ?? ""))));
}

/** Counts what passes, for the figures and the progress line. */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
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
  const spec = state.launch.spec;
  const sources: BundleSource[] = [];
  for (const file of state.files) {
    if (file.name.includes("/")) throw new Error(`snapshot file ${file.name} is outside the snapshot directory`);
    sources.push(await source(join(details.dir, file.name), file.name, file.role));
  }
  sources.push(...(await diskChain(diskLayerPath(paths, details.diskLayer))));
  if (spec.boot.kind === "kernel") {
    sources.push(await source(spec.boot.kernel, "vmlinux", "kernel"));
    sources.push(await source(spec.boot.initrd, "initrd.img", "initrd"));
  }
  if (spec.cidataIso !== undefined) sources.push(await source(spec.cidataIso, "cidata.iso", "cidata"));
  if (existsSync(paths.sshKey)) sources.push(await source(paths.sshKey, "id_ed25519", "ssh-key"));
  if (existsSync(paths.sshPublicKey)) sources.push(await source(paths.sshPublicKey, "id_ed25519.pub", "ssh-public-key"));

  const pinned = await readPinnedConfig(paths).catch(() => undefined);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    snapvmVersion: snapvmVersion(),
    source: { instance: name, tag, host: hostname() },
    qemuVersion: state.qemuVersion,
    accel: state.accel,
    frameBytes: FRAME_BYTES,
    config: await readFile(paths.config, "utf8"),
    ...(pinned === undefined ? {} : { bootConfig: pinned as unknown as Record<string, unknown> }),
    state,
    files: sources.map((s) => s.entry),
  };
  const recipients = options.recipients ?? [];
  const totalData = sources.reduce((sum, s) => sum + s.entry.allocatedBytes, 0);
  const bundle = writeBundle(manifest, sources, {
    ...(options.level === undefined ? {} : { level: options.level }),
    onData: (bytes) => {
      progress(`sending ${Math.round(bytes / 2 ** 20)} of ~${Math.round(totalData / 2 ** 20)} MiB`);
    },
  });
  const counter = new Counter();
  progress(`exporting ${name}@${tag} to ${describeEndpoint(endpoint)}`);
  const sink = await openSink(endpoint, options);
  try {
    if (recipients.length > 0) await pipeline(bundle.stream, createEncryptStream(recipients), counter, sink.writable, { end: endpoint.kind !== "stdio" });
    else await pipeline(bundle.stream, counter, sink.writable, { end: endpoint.kind !== "stdio" });
    await sink.commit();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  const figures = await bundle.figures;
  const totalMs = performance.now() - started;
  return {
    instance: name,
    tag,
    to: describeEndpoint(endpoint),
    encrypted: recipients.length > 0,
    files: sources.map(({ entry }) => ({ name: entry.name, role: entry.role, sizeBytes: entry.sizeBytes, allocatedBytes: entry.allocatedBytes })),
    bundleBytes: figures.bytes,
    dataBytes: figures.dataBytes,
    sentBytes: counter.bytes,
    totalMs,
    megabytesPerSecond: figures.dataBytes / 2 ** 20 / (totalMs / 1000),
  };
}
