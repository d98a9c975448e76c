import { randomBytes } from "node:crypto";
import { symlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { relocateSockets, type LaunchSpec } from "../../config/launch-spec.ts";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, instanceSockets, postcopyRamFile, type InstanceName, type InstancePaths } from "../../paths/index.ts";
import type { PinnedLaunch } from "../../snapshot/launch.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../util/atomic-write.ts";
import { sha256File } from "../../util/file-facts.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";
import { buildNewInstance } from "../lifecycle/new-instance.ts";
import { writeIncoming, type IncomingMigration } from "./incoming.ts";
import type { LineChannel } from "./line-channel.ts";
import type { DestinationMessage, Offer, OfferFile, SourceMessage, Upload } from "./protocol.ts";

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function badOffer(why: string): SnapvmError {
  return new SnapvmError(ErrorCode.MigrationFailed, `the source's offer is malformed: ${why}`);
}

/** Where a file of the offer lives in the instance (built in `dir`'s layout). */
function placeOf(file: OfferFile, dir: InstancePaths): string {
  if (!FILE_NAME.test(file.name)) throw badOffer(`file name ${JSON.stringify(file.name.slice(0, 200))}`);
  switch (file.role) {
    case "disk-layer":
      return join(dir.disksDir, file.name);
    case "kernel":
    case "initrd":
      return join(dir.importedDir, file.name);
    case "cidata":
      return dir.cidataIso;
    case "ssh-key":
      return dir.sshKey;
    case "ssh-public-key":
      return dir.sshPublicKey;
  }
}

/** A boot file the destination already has: the same digest at the same place under this home. */
async function sameHere(file: OfferFile, offer: Offer, home: string): Promise<string | undefined> {
  if ((file.role !== "kernel" && file.role !== "initrd") || !file.path.startsWith(`${offer.sourceHome}/`)) return undefined;
  const here = join(home, file.path.slice(offer.sourceHome.length + 1));
  if (!here.startsWith(`${home}/`)) return undefined;
  return (await sha256File(here).catch(() => undefined)) === file.sha256 ? here : undefined;
}

/** The source's launch on this host: the same VM (MAC, VM generation ID, ports) over this instance's files. */
function localLaunch(launch: PinnedLaunch, name: string, final: InstancePaths, bootFile: (role: "kernel" | "initrd") => string | undefined): PinnedLaunch {
  // The qemu-guest-agent channel stays as present or absent as in the pinned launch: the state loads only into the same devices.
  const spec: LaunchSpec = relocateSockets(
    {
      ...launch.spec,
      name,
      memoryPath: final.memory,
      disk: final.disk,
      boot: launch.spec.boot.kind === "kernel" ? { ...launch.spec.boot, kernel: bootFile("kernel") ?? "", initrd: bootFile("initrd") ?? "" } : launch.spec.boot,
      ...(launch.spec.cidataIso === undefined ? {} : { cidataIso: final.cidataIso }),
      ...(launch.spec.guestAccess?.kind === "ssh" ? { guestAccess: { ...launch.spec.guestAccess, keyPath: final.sshKey } } : {}),
    },
    instanceSockets(final),
  );
  // The destination's own RAM file, mapped shared: a fork's private mapping of its template's file stays behind.
  const argvOptions = { shareMemory: true };
  return { ...launch, spec, argvOptions, argv: driver.launcher.argv(spec, argvOptions) };
}

/**
 * Builds the migrating instance (buildNewInstance: whole or not at all): asks the source for the files
 * this host lacks (`accepted`), waits for `files-sent`, checks their digests, points the lower layers
 * at their new places, makes the empty top layer the mirror fills, and pins the launch rewritten to
 * this host's paths, with the incoming record that makes its agent receive instead of boot.
 */
export async function buildIncomingInstance(
  offer: Offer,
  name: InstanceName,
  home: string,
  channel: LineChannel<SourceMessage, DestinationMessage>,
  incoming: IncomingMigration,
): Promise<InstancePaths> {
  await buildNewInstance(name, home, async (temp, final) => {
    for (const dir of [temp.disksDir, temp.importedDir, temp.bootDir, temp.sshDir]) await ensurePrivateDir(dir);
    const uploads: Upload[] = [];
    const skipped: string[] = [];
    const finalPlace = new Map<OfferFile, string>();
    for (const file of offer.files) {
      const here = await sameHere(file, offer, home);
      if (here !== undefined) {
        skipped.push(file.name);
        finalPlace.set(file, here);
      } else {
        uploads.push({ name: file.name, role: file.role, path: placeOf(file, temp) });
        finalPlace.set(file, placeOf(file, final));
      }
    }
    channel.send({ kind: "accepted", uploads, skipped });
    await channel.expect("files-sent");
    for (const file of offer.files) {
      const upload = uploads.find((u) => u.name === file.name && u.role === file.role);
      if (upload !== undefined && (await sha256File(upload.path).catch(() => undefined)) !== file.sha256)
        throw new SnapvmError(ErrorCode.MigrationFailed, `${file.name} arrived damaged (its digest differs from the source's)`);
    }
    const layerPath = (layer: string): string => join(final.disksDir, layer);
    for (const file of offer.files) {
      if (file.role !== "disk-layer" || file.backing === undefined) continue;
      if (!offer.files.some((f) => f.role === "disk-layer" && f.name === file.backing)) throw badOffer(`layer ${file.name} names a missing layer`);
      await driver.disks.relink(placeOf(file, temp), layerPath(file.backing));
    }
    if (!FILE_NAME.test(offer.top.name)) throw badOffer(`top layer name ${JSON.stringify(offer.top.name.slice(0, 200))}`);
    const top = join(temp.disksDir, offer.top.name);
    if (offer.top.backing === undefined) await driver.disks.create(top, offer.top.virtualSize);
    else await driver.disks.createOverlay(top, layerPath(offer.top.backing), offer.top.virtualSize, true);
    await symlink(relative(temp.dir, top), temp.disk);
    const bootFile = (role: "kernel" | "initrd"): string | undefined => {
      const file = offer.files.find((f) => f.role === role);
      return file === undefined ? undefined : finalPlace.get(file);
    };
    await writeFileAtomic(temp.config, offer.config, PRIVATE_FILE_MODE);
    await writeJsonAtomic(temp.bootConfig, offer.bootConfig);
    await writeJsonAtomic(temp.bootLaunch, localLaunch(offer.launch, name, final, bootFile));
    if (incoming.postcopy) {
      const ram = postcopyRamFile(name, randomBytes(4).toString("hex"));
      // Made here: QEMU creates a missing RAM file with O_EXCL, which a dangling link refuses.
      await writeFile(ram, "", { mode: PRIVATE_FILE_MODE, flag: "wx" });
      await symlink(ram, temp.memory);
    }
    await writeIncoming(temp, incoming);
  });
  return instancePaths(name, home);
}
