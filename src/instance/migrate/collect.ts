import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { driver } from "../../driver/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";
import { fileSizes, sha256File } from "../../util/file-facts.ts";
import { activeLayer } from "../disk/layers.ts";
import { readPinnedConfig, readPinnedLaunch } from "../boot/pinned-boot.ts";
import type { FileRole, Offer, OfferFile } from "./protocol.ts";

export interface Collected {
  launch: PinnedLaunch;
  config: string;
  bootConfig: unknown;
  files: OfferFile[];
  top: Offer["top"];
}

async function describe(role: FileRole, path: string, backing?: string): Promise<OfferFile> {
  const [sha256, sizes] = await Promise.all([sha256File(path), fileSizes(path)]);
  return { role, name: basename(path), sha256, sizeBytes: sizes.apparentBytes, path, ...(backing === undefined ? {} : { backing: basename(backing) }) };
}

/**
 * Begin: what the destination needs besides RAM and the top layer's data: the pinned launch and config,
 * the read-only disk layers under the top (frozen, so copied while the guest runs), the boot files the
 * launch names, and the instance's SSH key. Each with its digest, so the destination skips what it has.
 */
export async function collectInstance(paths: InstancePaths): Promise<Collected> {
  const [launch, config, bootConfig] = await Promise.all([readPinnedLaunch(paths), readFile(paths.config, "utf8"), readPinnedConfig(paths)]);
  const topPath = await activeLayer(paths);
  const topFacts = await driver.disks.facts(topPath);
  const files: OfferFile[] = [];
  let below = topFacts.backingFile === undefined ? undefined : resolve(dirname(topPath), topFacts.backingFile);
  while (below !== undefined) {
    const facts = await driver.disks.facts(below);
    const next = facts.backingFile === undefined ? undefined : resolve(dirname(below), facts.backingFile);
    files.push(await describe("disk-layer", below, next));
    below = next;
  }
  const spec = launch.spec;
  if (spec.boot.kind === "kernel") files.push(await describe("kernel", spec.boot.kernel), await describe("initrd", spec.boot.initrd));
  if (spec.cidataIso !== undefined) files.push(await describe("cidata", spec.cidataIso));
  if (spec.guestAccess?.kind === "ssh") files.push(await describe("ssh-key", paths.sshKey), await describe("ssh-public-key", paths.sshPublicKey));
  return {
    launch,
    config,
    bootConfig,
    files,
    top: {
      name: basename(topPath),
      virtualSize: topFacts.virtualSize,
      ...(topFacts.backingFile === undefined ? {} : { backing: basename(topFacts.backingFile) }),
    },
  };
}
