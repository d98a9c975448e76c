import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, readFile, rm, symlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { relocateSockets, type LaunchSpec, type PortForward } from "../../config/launch-spec.ts";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import {
  diskLayerPath,
  instancePaths,
  instanceSockets,
  parseInstanceName,
  parseSnapshotTag,
  stateDirPaths,
  type InstanceName,
  type InstancePaths,
  type SnapshotTag,
} from "../../paths/index.ts";
import { type StateManifest } from "../../snapshot/manifest.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../util/atomic-write.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";
import { writeOrigin } from "../../store/fork-origin.ts";
import { newLayerId } from "../disk/layers.ts";
import { macForName } from "../boot/launch-spec.ts";
import { readPinnedConfig } from "../boot/pinned-boot.ts";
import { type PinnedLaunch } from "../../snapshot/launch.ts";
import { snapshotDetails, type SnapshotDetails } from "../snapshots/list.ts";
import { startInstances, type StartResult } from "../lifecycle/start.ts";
import { buildNewInstance, claimNewInstance } from "../lifecycle/new-instance.ts";
import type { PortClaim, PortReservations } from "../lifecycle/port-claims.ts";
import { faultPoint } from "../../util/fault-point.ts";

export interface ForkOptions {
  count?: number;
  /** Start the forks (default true); they resume from the snapshot in parallel. */
  start?: boolean;
  home?: string;
  onProgress?: (step: string) => void;
  /** The guest's hostname and the MAC's source, when not the fork's name (a remote lazy fork's temporary fork: the name it will have there). */
  identity?: string;
}

export interface ForkResult {
  from: { instance: string; tag: string };
  /** Every fork built; each started (`started`) or not (`failed`, with the reason), unless asked not to start. */
  forks: { name: string; ports: PortForward[]; started?: StartResult; failed?: ReturnType<SnapvmError["toJSON"]> }[];
  /** From the command to the last fork answering. */
  totalMs: number;
}

/** NAME@TAG → [NAME, TAG], each parsed (E_INVALID_NAME for a bad one). */
export function parseForkSource(text: string): [InstanceName, SnapshotTag] {
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `expected NAME@TAG, got ${JSON.stringify(text)}`, {
      hint: "For example: snapvm fork dev@warm web --count 4",
    });
  }
  return [parseInstanceName(text.slice(0, at)), parseSnapshotTag(text.slice(at + 1))];
}

/** What a fork's new host ports must avoid: ports other instances claim, and those given to its siblings. */
interface PortContext {
  claims: readonly PortClaim[];
  reserved: PortReservations;
  pick: typeof import("../lifecycle/port-claims.ts").pickUnclaimedPort;
}

/**
 * The port context, read only when the template forwards a port: reading every instance's config
 * loads the config schema (zod, ~0.05 s of CPU), which a fork without ports never needs.
 */
async function portContext(template: LaunchSpec, home?: string): Promise<PortContext | undefined> {
  if (template.ports.length === 0 && template.guestAccess?.kind !== "ssh") return undefined;
  const { pickUnclaimedPort, readPortClaims } = await import("../lifecycle/port-claims.ts");
  return { claims: await readPortClaims(home), reserved: new Set(), pick: pickUnclaimedPort };
}

function noPorts(): never {
  throw new Error("a fork with port forwards needs a port context");
}

/**
 * The rule for a fork's ports: every host port forward (TCP and UDP) and the SSH forward get a new
 * port, free now and claimed by no instance, on the same address; the guest ports stay. Forks run
 * side by side with their template and each other, and QEMU refuses a port in use.
 */
async function freshPorts(ports: readonly PortForward[], context: PortContext | undefined): Promise<PortForward[]> {
  const fresh: PortForward[] = [];
  for (const p of ports) {
    const c = context ?? noPorts();
    fresh.push({ ...p, host: await c.pick(p.protocol, p.hostAddress, c.claims, c.reserved) });
  }
  return fresh;
}

async function forkSpec(
  name: InstanceName,
  paths: InstancePaths,
  template: LaunchSpec,
  snapshot: SnapshotDetails,
  context: PortContext | undefined,
  identity: string,
): Promise<LaunchSpec> {
  const ssh = async (): Promise<number> => {
    const c = context ?? noPorts();
    return c.pick("tcp", "127.0.0.1", c.claims, c.reserved);
  };
  const guestAccess = template.guestAccess?.kind === "ssh" ? { ...template.guestAccess, port: await ssh(), keyPath: paths.sshKey } : template.guestAccess;
  const spec: LaunchSpec = {
    ...template,
    name,
    // The template's RAM file, mapped copy-on-write: forks share its page cache and never change it.
    memoryPath: stateDirPaths(snapshot.dir).memory,
    disk: paths.disk,
    ports: await freshPorts(template.ports, context),
    mac: macForName(identity),
    vmgenid: randomUUID(),
    ...(guestAccess === undefined ? {} : { guestAccess }),
  };
  return relocateSockets(spec, instanceSockets(paths));
}

/**
 * Builds one fork's directory (buildNewInstance: a temp dir, sealed, renamed into place): a config
 * like the source's with its own ports, a disk overlay on the snapshot's layer, and a suspend state
 * whose launch maps the snapshot's RAM file privately with a new VM generation ID, MAC and ports. Its
 * first start is a restore; the guest then gets its own hostname and MAC (DESIGN.md §3a).
 */
async function buildFork(
  name: InstanceName,
  source: InstancePaths,
  snapshot: SnapshotDetails,
  context: PortContext | undefined,
  home?: string,
  identity: string = name,
): Promise<{ name: InstanceName; ports: PortForward[] }> {
  const { result } = await buildNewInstance(name, home, async (temp, paths) => {
    const manifest = snapshot.manifest;
    const from = stateDirPaths(snapshot.dir);
    const suspend = stateDirPaths(temp.suspendDir);
    // The spec names the final paths: QEMU runs after the rename.
    const spec = await forkSpec(name, paths, manifest.launch.spec, snapshot, context, identity);
    const launch: PinnedLaunch = { ...manifest.launch, spec, argvOptions: { shareMemory: false }, argv: driver.launcher.argv(spec, { shareMemory: false }) };
    const config = await readFile(source.config, "utf8");
    // Without port forwards there is nothing to rewrite, and the YAML library need not load.
    const forkConfig = spec.ports.length === 0 ? config : (await import("./fork-config.ts")).rewriteForkPorts(config, manifest.launch.spec.ports, spec.ports);
    await writeFileAtomic(temp.config, forkConfig, PRIVATE_FILE_MODE);
    await ensurePrivateDir(temp.bootDir);
    const pinned = await readPinnedConfig(source).catch(() => undefined);
    if (pinned !== undefined) await writeJsonAtomic(temp.bootConfig, { ...pinned, ports: spec.ports });
    await writeJsonAtomic(temp.bootLaunch, launch);
    const layer = diskLayerPath(source, snapshot.diskLayer);
    const top = diskLayerPath(temp, newLayerId());
    await ensurePrivateDir(temp.disksDir);
    await driver.disks.createOverlay(top, layer, (await driver.disks.facts(layer)).virtualSize);
    await symlink(relative(temp.dir, top), temp.disk);
    await ensurePrivateDir(temp.suspendDir);
    await copyFile(from.deviceState, suspend.deviceState);
    const state: StateManifest = {
      ...manifest,
      kind: "suspend",
      launch,
      files: manifest.files.map((f) => (f.role === "memory" ? { ...f, name: join(snapshot.dir, f.name) } : f)),
      identity: { hostname: identity, mac: spec.mac },
    };
    delete state.snapshot;
    await writeJsonAtomic(suspend.manifest, state);
    if (existsSync(source.sshDir)) await copySshKey(source, temp);
    await writeOrigin(temp.origin, { instance: snapshot.instance, tag: snapshot.tag, createdAt: new Date().toISOString() });
    return spec.ports;
  });
  return { name, ports: result };
}

async function copySshKey(source: InstancePaths, target: InstancePaths): Promise<void> {
  await ensurePrivateDir(target.sshDir);
  for (const [from, to] of [
    [source.sshKey, target.sshKey],
    [source.sshPublicKey, target.sshPublicKey],
  ] as const) {
    if (existsSync(from)) await copyFile(from, to);
  }
}

function forkNames(base: string, count: number): InstanceName[] {
  return (count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}-${i + 1}`)).map(parseInstanceName);
}

/** Builds the forks' directories in parallel (each is qemu-img and small copies); on any failure, none is kept. */
async function buildForks(
  names: InstanceName[],
  source: InstancePaths,
  snapshot: SnapshotDetails,
  home?: string,
  identity?: string,
): Promise<{ name: InstanceName; ports: PortForward[] }[]> {
  let built = 0;
  const context = await portContext(snapshot.manifest.launch.spec, home);
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const fork = await buildFork(name, source, snapshot, context, home, identity ?? name);
      if (++built === 1) faultPoint("fork:built-one"); // crash tests: one fork built, the others under way
      return fork;
    }),
  );
  const failed = results.find((r) => r.status === "rejected");
  if (failed === undefined) return results.map((r) => (r as PromiseFulfilledResult<{ name: InstanceName; ports: PortForward[] }>).value);
  await Promise.all(
    results.map((r) => (r.status === "fulfilled" ? rm(instancePaths(r.value.name, home).dir, { recursive: true, force: true }) : Promise.resolve())),
  );
  throw failed.reason;
}

/**
 * Starts the built forks together, served by one agent process that outlives this one (a fork group:
 * one Node process for N forks instead of N, docs/design/fork-supervisor.md). Each fork comes up or
 * fails on its own, with its reason; a failed fork stays built (suspended) and can be started alone.
 */
async function startForks(
  built: { name: InstanceName; ports: PortForward[] }[],
  home: string | undefined,
  onAnswering: (answering: number) => void,
): Promise<ForkResult["forks"]> {
  let started = 0;
  const outcomes = await startInstances(
    built.map((fork) => fork.name),
    {
      ...(home === undefined ? {} : { home }),
      onOutcome: (outcome) => {
        if (!("result" in outcome)) return;
        if (++started === 1) faultPoint("fork:started-one"); // crash tests: one fork up, the others still starting
        onAnswering(started);
      },
    },
  );
  return built.map((fork, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) throw new Error("one outcome per fork");
    return "result" in outcome ? { ...fork, started: outcome.result } : { ...fork, failed: outcome.error.toJSON() };
  });
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
  // All names are checked before any work; buildNewInstance checks each again when it claims it.
  for (const name of names) claimNewInstance(name, options.home);
  let snapshot = await snapshotDetails(sourceName, tag, options.home);
  if (!snapshot.hasMemory || !snapshot.manifest.files.some((f) => f.role === "memory")) {
    throw new SnapvmError(ErrorCode.NotSupported, `snapshot "${tag}" of "${sourceName}" has no RAM file to fork from`, {
      hint: "Forks need a snapshot of a running or suspended instance with memory.backing: file.",
    });
  }
  if (snapshot.compressed) {
    // Forks map the plain RAM file: decompress in place first (refused with the space needed when short).
    // Loaded only here: its imports (the config schema, zod) would cost every fork command ~0.05 s.
    const { decompressSnapshot } = await import("../snapshots/compress.ts");
    await decompressSnapshot(sourceName, tag, {
      ...(options.home === undefined ? {} : { home: options.home }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
    snapshot = await snapshotDetails(sourceName, tag, options.home);
  }
  const source = instancePaths(sourceName, options.home);
  const progress = options.onProgress ?? (() => undefined);
  progress(`building ${count === 1 ? "the fork" : `${count} forks`}`);
  if (options.identity !== undefined && count !== 1) throw new Error("an identity names one fork");
  const built = await buildForks(names, source, snapshot, options.home, options.identity);
  if (options.start !== false) progress(count === 1 ? `starting ${built[0]?.name ?? newName}` : `starting ${count} forks, 0 answering`);
  const forks =
    options.start === false
      ? built
      : await startForks(built, options.home, (answering) => {
          if (count > 1 && answering < count) progress(`starting ${count} forks, ${answering} answering`);
        });
  return { from: { instance: sourceName, tag }, forks, totalMs: performance.now() - started };
}
