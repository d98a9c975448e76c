import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LaunchSpec, PortForward } from "../../config/launch-spec.ts";
import { buildQemuArgv } from "../../driver/qemu/argv.ts";
import { createOverlay, imageFacts } from "../../driver/qemu/qemu-img.ts";
import { pickFreePort } from "../../driver/ssh/free-port.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { MANIFEST_NAME, diskLayerPath, instancePaths, instanceSockets, instancesDir, parseInstanceName, parseSnapshotTag, type InstanceName, type InstancePaths, type SnapshotTag } from "../../paths/index.ts";
import { type StateManifest } from "../../snapshot/manifest.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";
import { writeOrigin } from "../../store/fork-origin.ts";
import { newLayerId } from "../disk/layers.ts";
import { macForName } from "../boot/launch-spec.ts";
import { readPinnedConfig } from "../boot/pinned-boot.ts";
import { type PinnedLaunch } from "../../snapshot/launch.ts";
import { DEVICE_STATE_FILE } from "../suspend/save-state.ts";
import { decompressSnapshot } from "../snapshots/compress.ts";
import { snapshotDetails, type SnapshotDetails } from "../snapshots/list.ts";
import { startInstance, type StartResult } from "../lifecycle/start.ts";

export interface ForkOptions {
  count?: number;
  /** Start the forks (default true); they resume from the snapshot in parallel. */
  start?: boolean;
  home?: string;
}

export interface ForkResult {
  from: { instance: string; tag: string };
  forks: { name: string; ports: PortForward[]; started?: StartResult }[];
  /** From the command to the last fork answering. */
  totalMs: number;
}

/** NAME@TAG → [NAME, TAG], each parsed (E_INVALID_NAME for a bad one). */
export function parseForkSource(text: string): [InstanceName, SnapshotTag] {
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `expected NAME@TAG, got ${JSON.stringify(text)}`, { hint: "For example: snapvm fork dev@warm web --count 4" });
  }
  return [parseInstanceName(text.slice(0, at)), parseSnapshotTag(text.slice(at + 1))];
}

/** Every host port forward gets a new free port: forks run side by side and QEMU refuses a port in use. */
async function freshPorts(ports: readonly PortForward[]): Promise<PortForward[]> {
  return Promise.all(ports.map(async (p) => ({ ...p, host: p.protocol === "tcp" ? await pickFreePort(p.hostAddress) : p.host })));
}

async function forkSpec(name: InstanceName, paths: InstancePaths, template: LaunchSpec, snapshot: SnapshotDetails): Promise<LaunchSpec> {
  const guestAccess = template.guestAccess?.kind === "ssh" ? { ...template.guestAccess, port: await pickFreePort(), keyPath: paths.sshKey } : template.guestAccess;
  return {
    ...template,
    name,
    // The template's RAM file, mapped copy-on-write: forks share its page cache and never change it.
    memoryPath: join(snapshot.dir, "memory.ram"),
    disk: paths.disk,
    ports: await freshPorts(template.ports),
    mac: macForName(name),
    vmgenid: randomUUID(),
    ...instanceSockets(paths),
    ...(guestAccess === undefined ? {} : { guestAccess }),
  };
}

/**
 * Builds one fork's directory (in a temp dir, renamed into place): a config like the source's with its
 * own ports, a disk overlay on the snapshot's layer, and a suspend state whose launch maps the
 * snapshot's RAM file privately with a new VM generation ID, MAC and ports. Its first start is a
 * restore; the guest then gets its own hostname and MAC (DESIGN.md §3a).
 */
async function buildFork(name: InstanceName, source: InstancePaths, snapshot: SnapshotDetails, home?: string): Promise<{ name: InstanceName; ports: PortForward[] }> {
  const paths = instancePaths(name, home);
  const temp = join(instancesDir(home), `.${name}.tmp-${process.pid}`);
  const tempPaths = { ...paths, dir: temp };
  await rm(temp, { recursive: true, force: true });
  await mkdir(join(temp, "boot"), { recursive: true });
  await mkdir(join(temp, "suspend"));
  try {
    const manifest = snapshot.manifest;
    const spec = await forkSpec(name, paths, manifest.launch.spec, snapshot);
    const launch: PinnedLaunch = { ...manifest.launch, spec, argvOptions: { shareMemory: false }, argv: buildQemuArgv(spec, { shareMemory: false }) };
    const config = await readFile(join(source.dir, "snapvm.yaml"), "utf8");
    await writeFile(join(temp, "snapvm.yaml"), replacePorts(config, manifest.launch.spec.ports, spec.ports));
    const pinned = await readPinnedConfig(source).catch(() => undefined);
    if (pinned !== undefined) await writeJsonAtomic(join(temp, "boot", "config.json"), { ...pinned, ports: spec.ports });
    await writeJsonAtomic(join(temp, "boot", "launch.json"), launch);
    const layer = diskLayerPath(source, snapshot.diskLayer);
    const top = `${newLayerId()}.qcow2`;
    await mkdir(join(temp, "disks"));
    await createOverlay(join(temp, "disks", top), layer, (await imageFacts(layer)).virtualSize);
    await symlink(join("disks", top), join(temp, "disk.qcow2"));
    await copyFile(join(snapshot.dir, DEVICE_STATE_FILE), join(temp, "suspend", DEVICE_STATE_FILE));
    const state: StateManifest = {
      ...manifest,
      kind: "suspend",
      launch,
      files: manifest.files.map((f) => (f.role === "memory" ? { ...f, name: join(snapshot.dir, f.name) } : f)),
      identity: { hostname: name, mac: spec.mac },
    };
    delete state.snapshot;
    await writeJsonAtomic(join(temp, "suspend", MANIFEST_NAME), state);
    if (existsSync(join(source.dir, "ssh"))) await copySshKey(source, tempPaths);
    await writeOrigin(join(temp, "origin.json"), { instance: snapshot.instance, tag: snapshot.tag, createdAt: new Date().toISOString() });
    await rename(temp, paths.dir);
    return { name, ports: spec.ports };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

async function copySshKey(source: InstancePaths, target: InstancePaths): Promise<void> {
  await mkdir(join(target.dir, "ssh"), { recursive: true, mode: 0o700 });
  for (const file of ["id_ed25519", "id_ed25519.pub"]) {
    const from = join(source.dir, "ssh", file);
    if (existsSync(from)) await copyFile(from, join(target.dir, "ssh", file));
  }
}

/** Rewrites `host: N` lines of forwarded ports in the YAML so the fork's config matches its launch. */
function replacePorts(yaml: string, before: readonly PortForward[], after: readonly PortForward[]): string {
  let text = yaml;
  before.forEach((port, i) => {
    const next = after[i];
    if (next !== undefined && next.host !== port.host) text = text.replace(new RegExp(`(host:\\s*)${port.host}\\b`), `$1${next.host}`);
  });
  return text;
}

function forkNames(base: string, count: number): InstanceName[] {
  return (count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}-${i + 1}`)).map(parseInstanceName);
}

/** Builds the forks' directories in parallel (each is qemu-img and small copies); on any failure, none is kept. */
async function buildForks(names: InstanceName[], source: InstancePaths, snapshot: SnapshotDetails, home?: string): Promise<{ name: InstanceName; ports: PortForward[] }[]> {
  const results = await Promise.allSettled(names.map((name) => buildFork(name, source, snapshot, home)));
  const failed = results.find((r) => r.status === "rejected");
  if (failed === undefined) return results.map((r) => (r as PromiseFulfilledResult<{ name: InstanceName; ports: PortForward[] }>).value);
  await Promise.all(results.map((r) => (r.status === "fulfilled" ? rm(instancePaths(r.value.name, home).dir, { recursive: true, force: true }) : Promise.resolve())));
  throw failed.reason;
}

/** `snapvm fork NAME@TAG NEWNAME [--count N]`: N independent instances resuming from the snapshot. */
export async function forkInstance(sourceText: string, newName: string, options: ForkOptions = {}): Promise<ForkResult> {
  const started = performance.now();
  const [sourceName, tag] = parseForkSource(sourceText);
  const count = options.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `--count must be a whole number from 1 to 64, got ${count}`);
  }
  const names = forkNames(newName, count);
  for (const name of names) {
    if (existsSync(instancePaths(name, options.home).dir)) {
      throw new SnapvmError(ErrorCode.InstanceExists, `instance "${name}" already exists`, { hint: "Pick another name for the forks." });
    }
  }
  let snapshot = await snapshotDetails(sourceName, tag, options.home);
  if (!snapshot.hasMemory || !snapshot.manifest.files.some((f) => f.role === "memory")) {
    throw new SnapvmError(ErrorCode.NotSupported, `snapshot "${tag}" of "${sourceName}" has no RAM file to fork from`, {
      hint: "Forks need a snapshot of a running or suspended instance with memory.backing: file.",
    });
  }
  if (snapshot.compressed) {
    // Forks map the plain RAM file: decompress in place first (refused with the space needed when short).
    await decompressSnapshot(sourceName, tag, options.home === undefined ? {} : { home: options.home });
    snapshot = await snapshotDetails(sourceName, tag, options.home);
  }
  const source = instancePaths(sourceName, options.home);
  const built = await buildForks(names, source, snapshot, options.home);
  const forks = options.start === false
    ? built
    : await Promise.all(built.map(async (fork) => ({ ...fork, started: await startInstance(fork.name, options.home === undefined ? {} : { home: options.home }) })));
  return { from: { instance: sourceName, tag }, forks, totalMs: performance.now() - started };
}
