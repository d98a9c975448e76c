import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { basename } from "node:path";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, FRAME_BYTES, type BundleFile, type BundleFileRole, type BundleManifest } from "../../bundle/format.ts";
import type { BundleSource } from "../../bundle/write.ts";
import type { LaunchSpec } from "../../config/launch-spec.ts";
import { driver } from "../../driver/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import type { StateManifest } from "../../snapshot/manifest.ts";
import { snapvmVersion } from "../../util/snapvm-version.ts";
import { readPinnedConfig } from "../boot/pinned-boot.ts";

/** A file on this host as a bundle source; `streamed` when it may still grow before its turn (a layer freezing). */
export async function fileSource(
  path: string,
  name: string,
  role: BundleFileRole,
  extra: Pick<BundleFile, "backing" | "streamed"> = {},
): Promise<BundleSource> {
  const facts = await stat(path);
  const entry: BundleFile = { name, role, sizeBytes: facts.size, allocatedBytes: facts.blocks * 512, ...extra };
  return { entry, path };
}

/**
 * The snapshot's disk layer and every layer under it, base first; each names the one below. With
 * `topStreamed`, the top layer is still being written (a live offload freezes it at the switch-over)
 * and is read at the length it has when its turn comes.
 */
export async function diskChainSources(top: string, topStreamed = false): Promise<BundleSource[]> {
  const chain: string[] = [];
  for (let layer: string | undefined = top; layer !== undefined; layer = (await driver.disks.facts(layer)).backingFile) {
    if (chain.includes(layer) || chain.length >= 64) throw new Error(`the disk chain of ${top} loops or is over 64 layers deep`);
    chain.push(layer);
  }
  chain.reverse();
  return Promise.all(
    chain.map((layer, i) =>
      fileSource(layer, basename(layer), "disk-layer", {
        backing: i === 0 ? null : basename(chain[i - 1] ?? ""),
        ...(topStreamed && i === chain.length - 1 ? { streamed: true } : {}),
      }),
    ),
  );
}

/** The boot files the launch names and the instance's SSH key pair: what another host lacks to run it. */
export async function launchFileSources(paths: InstancePaths, spec: LaunchSpec): Promise<BundleSource[]> {
  const sources: BundleSource[] = [];
  if (spec.boot.kind === "kernel") {
    sources.push(await fileSource(spec.boot.kernel, "vmlinux", "kernel"));
    sources.push(await fileSource(spec.boot.initrd, "initrd.img", "initrd"));
  }
  if (spec.cidataIso !== undefined) sources.push(await fileSource(spec.cidataIso, "cidata.iso", "cidata"));
  if (existsSync(paths.sshKey)) sources.push(await fileSource(paths.sshKey, "id_ed25519", "ssh-key"));
  if (existsSync(paths.sshPublicKey)) sources.push(await fileSource(paths.sshPublicKey, "id_ed25519.pub", "ssh-public-key"));
  return sources;
}

/** The bundle's manifest: compatibility facts first, the instance's config, the state, the files in order. */
export async function bundleManifest(
  paths: InstancePaths,
  source: { instance: string; tag: string },
  state: StateManifest,
  sources: readonly BundleSource[],
  /** A resumed export writes the manifest of the run it continues. */
  createdAt = new Date().toISOString(),
): Promise<BundleManifest> {
  const pinned = await readPinnedConfig(paths).catch(() => undefined);
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt,
    snapvmVersion: snapvmVersion(),
    source: { ...source, host: hostname() },
    qemuVersion: state.qemuVersion,
    accel: state.accel,
    frameBytes: FRAME_BYTES,
    config: await readFile(paths.config, "utf8"),
    ...(pinned === undefined ? {} : { bootConfig: pinned as unknown as Record<string, unknown> }),
    state,
    files: sources.map((s) => s.entry),
  };
}
