import { statfs, symlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { type BundleFile, type BundleManifest } from "../../bundle/format.ts";
import { invalidBundle } from "../../bundle/errors.ts";
import { BundleReader } from "../../bundle/read.ts";
import { parseConfigText, resolveConfig } from "../../config/index.ts";
import { relocateSockets, type LaunchSpec } from "../../config/launch-spec.ts";
import type { Identity } from "../../crypto/age/index.ts";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import {
  instanceSockets,
  MANIFEST_NAME,
  parseInstanceName,
  snapshotPaths,
  snapvmHome,
  tryInstanceName,
  trySnapshotTag,
  type InstancePaths,
} from "../../paths/index.ts";
import { STATE_FORMAT, type StateManifest } from "../../snapshot/manifest.ts";
import { checkFormatVersion } from "../../snapshot/read-manifest.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../util/atomic-write.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";
import { refuseKvmStateWithoutKvm } from "../boot/state-accel.ts";
import { newLayerId } from "../disk/layers.ts";
import { buildNewInstance, claimNewInstance } from "../lifecycle/new-instance.ts";
import { describeEndpoint, openSource, type Endpoint, type S3Options } from "./endpoints.ts";
import { isBundleAtFault } from "./download-cache.ts";
import { carriesLiveStream, loadStreamIntoSnapshot, streamableLiveStream, streamIntoSnapshot, type LoadedStream } from "./load-stream.ts";
import { plaintext } from "./plaintext.ts";

export interface ImportOptions extends S3Options {
  home?: string;
  /** The new instance's name (default: the exported instance's). */
  as?: string;
  identities?: readonly Identity[];
  onProgress?: (step: string) => void;
  /** The name when `as` is not given (default: the exported instance's). */
  defaultName?: (manifest: BundleManifest) => string;
  /** Recorded in imported/bundle.json: where the bundle came from. */
  origin?: ImportOrigin;
}

export interface ImportOrigin {
  url: string;
  etag?: string;
  sizeBytes?: number;
}

export interface ImportResult {
  name: string;
  dir: string;
  tag: string;
  from: { instance: string; tag: string; host: string; createdAt: string; url: string };
  encrypted: boolean;
  files: number;
  dataBytes: number;
  bundleBytes: number;
  totalMs: number;
  /** From S3: bytes an earlier, interrupted run of this import had fetched, read from its local copy. */
  resumedBytes?: number;
  notes?: string[];
}

/** Room for the manifests, the new disk top and the filesystem's own rounding. */
const SPACE_MARGIN = 64 * 2 ** 20;

function stateOf(manifest: BundleManifest): StateManifest {
  const state = manifest.state as Partial<StateManifest>;
  if (state.format !== STATE_FORMAT || typeof state.formatVersion !== "string" || state.snapshot === undefined || typeof state.launch?.spec !== "object") {
    throw invalidBundle("bad-manifest", "the bundle's state is not a snapvm snapshot manifest");
  }
  checkFormatVersion("the bundle's state", state.formatVersion);
  return state as StateManifest;
}

/** Before any bulk byte is read: this host can load the state, and has room for it. */
async function preflight(manifest: BundleManifest, state: StateManifest, home: string, downloadBytes: number): Promise<void> {
  const local = await driver.host.vmmVersion();
  if (manifest.qemuVersion !== local || state.qemuVersion !== local) {
    throw new SnapvmError(
      ErrorCode.StateIncompatible,
      `the snapshot was saved by QEMU ${state.qemuVersion}; this host runs QEMU ${local}, which cannot load it`,
      {
        hint: `Import it on a host with QEMU ${state.qemuVersion}.`,
        details: { saved: state.qemuVersion, host: local },
      },
    );
  }
  await refuseKvmStateWithoutKvm(state.accel, "the snapshot was taken");
  // A live offload's stream is loaded into a RAM file beside it before it is removed: room for both.
  const loading = carriesLiveStream(manifest) ? state.memory.sizeBytes : 0;
  // An S3 download keeps its bytes until the import is done (download-cache.ts): room for those too.
  const need = manifest.files.reduce((sum, f) => sum + f.allocatedBytes, 0) + loading + downloadBytes + SPACE_MARGIN;
  await ensurePrivateDir(home);
  const fs = await statfs(home);
  const free = fs.bavail * fs.bsize;
  if (free < need) {
    throw new SnapvmError(ErrorCode.NoSpace, `the import needs ${Math.ceil(need / 2 ** 20)} MiB in ${home}, which has ${Math.floor(free / 2 ** 20)} MiB free`, {
      hint: "Free space there, or import into another SNAPVM_HOME.",
      details: { needBytes: need, freeBytes: free },
    });
  }
}

/** Where each file of the bundle lands in the new instance (built in `dir`'s layout). */
function targetOf(file: BundleFile, dir: InstancePaths, tagDir: string): string {
  switch (file.role) {
    case "device-state":
    case "memory":
    case "memory-stream":
      return join(tagDir, file.name);
    case "disk-layer":
      if (!file.name.endsWith(".qcow2")) throw invalidBundle("bad-manifest", `disk layer ${file.name} is not a .qcow2 file`);
      return join(dir.disksDir, file.name);
    case "kernel":
    case "initrd":
    case "cidata":
      return join(dir.importedDir, file.name);
    case "ssh-key":
      return dir.sshKey;
    case "ssh-public-key":
      return dir.sshPublicKey;
  }
}

/** The snapshot's launch on this host: the same VM (MAC, VM generation ID, ports) with this instance's files. */
function localSpec(spec: LaunchSpec, name: string, final: InstancePaths, manifest: BundleManifest): LaunchSpec {
  const imported = (role: BundleFile["role"]): string | undefined => {
    const file = manifest.files.find((f) => f.role === role);
    return file === undefined ? undefined : join(final.importedDir, file.name);
  };
  const boot: LaunchSpec["boot"] =
    spec.boot.kind === "kernel"
      ? {
          ...spec.boot,
          kernel: imported("kernel") ?? spec.boot.kernel,
          initrd: imported("initrd") ?? spec.boot.initrd,
        }
      : spec.boot;
  const cidata = imported("cidata");
  const local: LaunchSpec = {
    ...spec,
    name,
    memoryPath: final.memory,
    disk: final.disk,
    boot,
    ...(spec.cidataIso === undefined || cidata === undefined ? {} : { cidataIso: cidata }),
    ...(spec.guestAccess?.kind === "ssh" ? { guestAccess: { ...spec.guestAccess, keyPath: final.sshKey } } : {}),
  };
  return relocateSockets(local, instanceSockets(final));
}

/**
 * `snapvm snapshot import SRC [--as NAME]`: a bundle becomes a stopped instance holding its snapshot,
 * ready for `snapshot restore` and `fork`. The manifest is read and checked (format version, QEMU
 * version, accelerator, free space) before the bulk; every file is checked against its digest and the
 * whole against the trailer; the instance is built in a hidden temp directory and renamed into place
 * only after all of that passed (buildNewInstance), so a bad bundle leaves nothing behind.
 */
export async function importBundle(endpoint: Endpoint, options: ImportOptions = {}): Promise<ImportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const home = options.home ?? snapvmHome();
  if (options.as !== undefined) claimNewInstance(parseInstanceName(options.as), options.home);
  const { stream: input, download } = await openSource(endpoint, options, home);
  try {
    const { stream, encrypted } = await plaintext(input, options.identities ?? []);
    const reader = new BundleReader(stream);
    const manifest = await reader.manifest();
    const state = stateOf(manifest);
    const facts = state.snapshot;
    if (facts === undefined) throw invalidBundle("bad-manifest", "the bundle's state is not a snapshot");
    const tagParsed = trySnapshotTag(facts.tag);
    if (!("tag" in tagParsed)) throw invalidBundle("bad-manifest", `the bundle's snapshot tag ${JSON.stringify(facts.tag)} is not valid here`);
    const nameText = options.as ?? options.defaultName?.(manifest) ?? manifest.source.instance;
    const parsedName = tryInstanceName(nameText);
    if (!("name" in parsedName))
      throw invalidBundle("bad-manifest", `the bundle's instance name ${JSON.stringify(nameText)} is not valid here`, "Give one with --as NAME.");
    const name = parsedName.name;
    claimNewInstance(name, options.home);
    const layer = manifest.files.find((f) => f.role === "disk-layer" && f.name === `${facts.diskLayer}.qcow2`);
    if (layer === undefined) throw invalidBundle("bad-manifest", `the bundle lacks the snapshot's disk layer ${facts.diskLayer}`);
    const config = parseConfigText(manifest.config, "the bundle's snapvm.yaml");
    await preflight(manifest, state, home, download?.remainingBytes ?? 0);
    let dataBytes = 0;
    const notes: string[] = [];
    const { paths } = await buildNewInstance(name, options.home, async (temp, final) => {
      const tagDir = snapshotPaths(temp, tagParsed.tag).dir;
      for (const dir of [temp.snapshotsDir, tagDir, temp.disksDir]) await ensurePrivateDir(dir);
      const onData = (bytes: number): void => {
        dataBytes += bytes;
      };
      // A live offload's stream goes straight into the converting QEMU when the boot files it needs came first.
      const feedStream = streamableLiveStream(manifest);
      let loaded: LoadedStream | undefined;
      for (const file of manifest.files) {
        const target = targetOf(file, temp, tagDir);
        await ensurePrivateDir(dirname(target));
        if (file === feedStream) {
          progress(`loading ${file.name} into the snapshot's RAM file as it arrives`);
          const diskBytes = resolveConfig(config, { sourceName: "the bundle's snapvm.yaml" }).disk.sizeBytes;
          loaded = await streamIntoSnapshot(localSpec(state.launch.spec, name, temp, manifest), tagDir, diskBytes, file.sizeBytes, async (send) => {
            await reader.streamFile(file, file.name, send, onData);
          });
          continue;
        }
        progress(`receiving ${file.name}`);
        // A live offload's stream is scratch, removed once loaded into memory.ram (which is fsynced): its fsync would only wait for the disk.
        const scratch = file.role === "memory-stream" && file.streamed === true;
        await reader.readFile(file, target, onData, !scratch);
      }
      const trailer = await reader.finish();
      // The layers name their backing by its path on the exporting host: point each at its new place.
      for (const file of manifest.files) {
        if (file.role !== "disk-layer" || file.backing === undefined || file.backing === null) continue;
        if (!manifest.files.some((f) => f.role === "disk-layer" && f.name === file.backing))
          throw invalidBundle("bad-manifest", `layer ${file.name} names a missing layer`);
        await driver.disks.relink(join(temp.disksDir, file.name), join(final.disksDir, file.backing));
      }
      const top = join(temp.disksDir, `${newLayerId()}.qcow2`);
      const snapshotLayer = join(final.disksDir, layer.name);
      const virtualSize = (await driver.disks.facts(join(temp.disksDir, layer.name))).virtualSize;
      await driver.disks.createOverlay(top, snapshotLayer, virtualSize, true);
      await symlink(relative(temp.dir, top), temp.disk);
      const spec = localSpec(state.launch.spec, name, final, manifest);
      let stateFiles = state.files;
      if (loaded === undefined && carriesLiveStream(manifest)) {
        progress("loading the streamed state into the snapshot's RAM file");
        loaded = await loadStreamIntoSnapshot(localSpec(state.launch.spec, name, temp, manifest), tagDir, virtualSize);
      }
      if (loaded !== undefined) {
        stateFiles = loaded.files;
        notes.push(...loaded.notes);
      }
      const snapshot: StateManifest = {
        ...state,
        files: stateFiles,
        pauseMs: trailer.final?.pauseMs ?? state.pauseMs,
        launch: { ...state.launch, spec, argv: driver.launcher.argv(spec, state.launch.argvOptions ?? {}) },
      };
      await writeJsonAtomic(join(tagDir, MANIFEST_NAME), snapshot);
      await writeFileAtomic(temp.config, manifest.config, PRIVATE_FILE_MODE);
      if (options.origin !== undefined) {
        await ensurePrivateDir(temp.importedDir);
        await writeJsonAtomic(temp.importedFrom, { ...options.origin, tag: facts.tag, importedAt: new Date().toISOString() });
      }
      if (manifest.bootConfig !== undefined) {
        await ensurePrivateDir(temp.bootDir);
        await writeJsonAtomic(temp.bootConfig, manifest.bootConfig);
      }
    });
    await download?.discard();
    if (download !== undefined && download.resumedBytes > 0) {
      notes.push(`resumed: ${(download.resumedBytes / 2 ** 20).toFixed(1)} MiB came from an earlier run's download`);
    }
    return {
      name,
      dir: paths.dir,
      tag: facts.tag,
      from: { ...manifest.source, createdAt: manifest.createdAt, url: describeEndpoint(endpoint) },
      encrypted,
      files: manifest.files.length,
      dataBytes,
      bundleBytes: reader.position,
      totalMs: performance.now() - started,
      ...(download === undefined ? {} : { resumedBytes: download.resumedBytes }),
      ...(notes.length === 0 ? {} : { notes }),
    };
  } catch (error) {
    await (isBundleAtFault(error) ? download?.discard() : download?.keep());
    throw error;
  } finally {
    if (input !== process.stdin) input.destroy();
  }
}
