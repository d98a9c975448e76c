import { randomUUID } from "node:crypto";
import { access, mkdtemp, rm, stat } from "node:fs/promises";
import { scratchDirPrefix } from "../../paths/index.ts";
import { basename, join, resolve } from "node:path";
import { formatSize, resolveConfig, serializeConfig, withDefaults, type ConfigFile } from "../../config/index.ts";
import { relocateSockets, type Accel, type LaunchSpec } from "../../config/launch-spec.ts";
import { driver, type ConvertFigures, type SourceLaunch } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instanceDirPaths, instanceSockets, stateDirPaths, type InstanceName, type InstancePaths } from "../../paths/index.ts";
import { buildNewInstance, claimNewInstance } from "../lifecycle/new-instance.ts";
import { inspectStreamFile } from "../../snapshot/stream/index.ts";
import { writeFileAtomic } from "../../util/atomic-write.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";
import { digHoles } from "../../util/dig-holes.ts";
import { copySourceDisk } from "./source-disk.ts";
import { readSourceArgv, type ArgvSource } from "./argv-input.ts";
import { writeImportedManifest } from "./manifest.ts";
import { pinBoot } from "../boot/pinned-boot.ts";
import { refuseKvmStateWithoutKvm } from "../boot/state-accel.ts";
import { type PinnedLaunch } from "../../snapshot/launch.ts";
import { withRawStream, type StreamCompression } from "../../snapshot/stream-compression.ts";

export interface ImportOptions extends ArgvSource {
  home?: string;
  onProgress?: (step: string) => void;
}

export interface ImportResult {
  name: string;
  dir: string;
  source: { file: string; compression: StreamCompression; streamBytes: number; instance: string; disk: string };
  cpus: number;
  memoryBytes: number;
  accel: Accel;
  qemuVersion: string;
  deviceStateBytes: number;
  /** The RAM file's allocated size after zero pages were returned to holes. */
  memoryAllocatedBytes: number;
  timings: { prepareMs: number; checkMs: number; diskMs: number; loadMs: number; saveMs: number; totalMs: number };
  notes: string[];
}

/** What import checks before writing anything: the arguments say a VM snapvm can recreate and run here. */
async function checkSource(source: SourceLaunch): Promise<void> {
  const spec = source.spec;
  if (spec.boot.kind !== "kernel" || spec.cidataIso !== undefined) {
    throw new SnapvmError(ErrorCode.NotSupported, "import-state supports only the built-in guest (-kernel boot); these arguments boot a disk image", {
      hint: "A cloud-image VM is reached over SSH with its own instance's key, which a stream and its arguments do not carry.",
    });
  }
  for (const [what, path] of [
    ["disk", spec.disk],
    ["kernel", spec.boot.kernel],
    ["initrd", spec.boot.initrd],
  ] as const) {
    await access(path).catch((error: unknown) => {
      throw new SnapvmError(ErrorCode.InvalidArgument, `the ${what} the QEMU arguments name, ${path}, is not readable`, {
        hint: "Run import-state on the host the stream was saved on, with its files in place.",
        cause: error,
      });
    });
  }
  await refuseKvmStateWithoutKvm(spec.accel, "the stream was saved");
}

/** The new instance's config: the source's shape, file-backed RAM (so suspend and resume are lazy), the built-in image. */
function configFor(source: SourceLaunch, diskBytes: number): ConfigFile {
  const spec = source.spec;
  return {
    cpus: spec.cpus,
    memory: { size: formatSize(spec.memoryBytes), backing: "file" },
    disk: { size: formatSize(diskBytes) },
    ...(spec.ports.length === 0 ? {} : { ports: spec.ports.map((p) => ({ host: p.host, guest: p.guest, protocol: p.protocol, hostAddress: p.hostAddress })) }),
  };
}

/** The pinned spec of the new instance: the source's layout, this instance's files, a new VM generation ID. */
function specFor(name: string, source: SourceLaunch, paths: InstancePaths): LaunchSpec {
  // checkSource refused a cloud-init drive; the spec below has none.
  const layout: LaunchSpec = { ...source.spec };
  delete layout.cidataIso;
  const spec: LaunchSpec = {
    ...layout,
    name,
    memoryBacking: "file",
    memoryPath: paths.memory,
    disk: paths.disk,
    guestAccess: { kind: "agent" },
    // A copy of the VM: a guest with CONFIG_VMGENID reseeds its RNG, as a fork's does (DESIGN.md §3a).
    vmgenid: randomUUID(),
  };
  return relocateSockets(spec, instanceSockets(paths));
}

/**
 * `snapvm import-state FILE NAME`: a plain QEMU migration stream (raw, gzip or zstd) plus the
 * snapvm-generated QEMU arguments it was saved with become a suspended instance that resumes
 * lazily (file-backed RAM + device state) from then on.
 *   1. read and check the arguments; check the stream's files and host (nothing written yet);
 *   2. build the instance in a hidden temp directory (buildNewInstance): decompress the stream there
 *      (bounded by importStreamBound), decode it and
 *      check it fits the arguments (machine, RAM block "mem" and its size), copy the disk;
 *   3. convert (driver.state.convertStream): load the stream into a paused QEMU whose RAM is the new
 *      memory.ram, save device state only; dig holes in the RAM file;
 *   4. write snapvm.yaml, boot/ (config and launch, as a cold boot pins them) and suspend/manifest.json;
 *   5. buildNewInstance seals the temp directory and renames it into place: the instance exists,
 *      suspended, or not at all.
 * Undo on any failure: kill the converting QEMU, remove the temp directory (buildNewInstance).
 */
export async function importState(file: string, name: InstanceName, options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const source = driver.launcher.parseArgv(await readSourceArgv(options));
  const streamFile = resolve(file);
  await access(streamFile).catch((error: unknown) => {
    throw new SnapvmError(ErrorCode.InvalidArgument, `${streamFile} is not readable`, { hint: "Give the migration stream file.", cause: error });
  });
  await checkSource(source);
  const configFile = configFor(source, (await driver.disks.facts(source.spec.disk)).virtualSize);
  resolveConfig(configFile, { sourceName: "the imported arguments" }); // validates what the arguments gave
  claimNewInstance(name, options.home);
  // The converter's sockets in a short directory of their own: unix socket paths are capped at 107 bytes.
  const sockets = await mkdtemp(scratchDirPrefix("import"));
  const notes: string[] = [];
  try {
    const t = { prepare: performance.now(), check: 0, disk: 0 };
    const { paths, result: stage } = await buildNewInstance(name, options.home, async (temp, paths) => {
      const spec = specFor(name, source, paths);
      const converted = await withRawStream(
        streamFile,
        temp.dir,
        async (raw, compression) => {
          const streamBytes = (await stat(raw)).size;
          t.prepare = performance.now() - t.prepare;
          progress("checking the stream");
          const checkStarted = performance.now();
          // A whole-RAM stream is as large as the guest's used RAM; the decoder reads it through a window.
          const report = await inspectStreamFile(raw, { maxBytes: streamBytes + 1, limits: { maxSections: 1_000_000 } });
          const layout = driver.state.checkStream(report, spec.memoryBytes, streamFile);
          t.check = performance.now() - checkStarted;
          progress("copying the disk");
          const diskStarted = performance.now();
          const layer = await copySourceDisk(source.spec.disk, temp);
          t.disk = performance.now() - diskStarted;
          progress("loading the stream into the RAM file");
          await ensurePrivateDir(temp.suspendDir);
          const figures = await driver.state.convertStream({
            // Host forwards are not part of the state; leaving them out keeps a source still running from colliding.
            spec: relocateSockets({ ...spec, memoryPath: temp.memory, disk: layer, ports: [] }, instanceSockets(instanceDirPaths(sockets))),
            rawStream: raw,
            streamBytes,
            layout,
            deviceStateFile: stateDirPaths(temp.suspendDir).deviceState,
          });
          return { compression, streamBytes, figures, layer };
        },
        { maxBytes: importStreamBound(spec.memoryBytes), reason: "the guest's RAM + 64 MiB" },
      );
      await digHoles(temp.memory, notes);
      const launch = pinnedLaunch(spec, converted.figures, join(paths.disksDir, basename(converted.layer)));
      await writeFileAtomic(temp.config, serializeConfig(configFile), PRIVATE_FILE_MODE);
      await pinBoot(temp, withDefaults(configFile), launch);
      const files = await writeImportedManifest(temp, launch);
      return { ...converted, spec, files };
    });
    notes.push(
      `the disk was copied from ${source.spec.disk}; it must be the disk as it was when the stream was saved`,
      "the instance has a new VM generation ID: it is a copy of the VM the stream came from",
    );
    const { spec, files } = stage;
    return {
      name,
      dir: paths.dir,
      source: { file: streamFile, compression: stage.compression, streamBytes: stage.streamBytes, instance: source.spec.name, disk: source.spec.disk },
      cpus: spec.cpus,
      memoryBytes: spec.memoryBytes,
      accel: spec.accel,
      qemuVersion: stage.figures.version,
      deviceStateBytes: files.find((f) => f.role === "device-state")?.sizeBytes ?? 0,
      memoryAllocatedBytes: files.find((f) => f.role === "memory")?.allocatedBytes ?? 0,
      timings: {
        prepareMs: t.prepare,
        checkMs: t.check,
        diskMs: t.disk,
        loadMs: stage.figures.loadMs,
        saveMs: stage.figures.saveMs,
        totalMs: performance.now() - started,
      },
      notes,
    };
  } finally {
    await rm(sockets, { recursive: true, force: true });
  }
}

/**
 * The most a compressed stream may decompress to: a migration stream of a guest is its RAM pages
 * plus device state, so guest RAM + 64 MiB is generous for a real stream and stops a bomb early.
 */
export function importStreamBound(memoryBytes: number): number {
  return memoryBytes + 64 * 2 ** 20;
}

/** As a cold boot pins it: the argv names the disk layer by its real path (the launcher resolves the link). */
function pinnedLaunch(spec: LaunchSpec, figures: ConvertFigures, finalLayer: string): PinnedLaunch {
  return {
    spec,
    argv: driver.launcher.argv({ ...spec, disk: finalLayer }),
    qemuVersion: figures.version,
    accelReason: `imported: the stream was saved under ${spec.accel}`,
    bootedAt: new Date().toISOString(),
  };
}
