import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { imagesDir, tinyImagePaths, type TinyImagePaths } from "../paths/index.ts";
import { writeJsonAtomic } from "../util/atomic-write.ts";
import { runCommand } from "../util/run-command.ts";
import { wrapBuildError } from "./build-errors.ts";
import { extractDeb, fetchDeb } from "./deb-cache.ts";
import { readGuestFiles } from "./guest-files.ts";
import { buildInitrd, INITRD_COMPRESSION } from "./initrd.ts";
import { installImage } from "./install.ts";
import { BUSYBOX_PACKAGE, resolveCandidates, resolveKernelPackageName, type DebCandidate } from "./kernel-package.ts";
import { collectModules, extractVmlinux, kernelRelease } from "./kernel-files.ts";
import { GUEST_PROTOCOL_VERSION } from "./guest-protocol.ts";
import { infoToManifest, type TinyImageInfo } from "./manifest.ts";
import { TINY_MODULES } from "./modules.ts";
import { readTinyImage } from "./read.ts";
import { makeWorkDir, removeStaleWorkDirs } from "./work-dir.ts";

export interface BuildTinyImageOptions {
  home?: string;
  /** Rebuild even if a valid image exists. */
  force?: boolean;
  /** Called with a short description as each step starts. */
  onProgress?: (step: string) => void;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** An existing valid image; a broken one (bad image.json, wrong sizes) counts as absent and is rebuilt. */
/** A valid image whose guest agent speaks the current protocol; an older one is rebuilt. */
function existingImage(home: string | undefined): TinyImageInfo | undefined {
  try {
    const info = readTinyImage(home);
    return info !== undefined && info.guestProtocolVersion >= GUEST_PROTOCOL_VERSION ? info : undefined;
  } catch (error) {
    if (isSnapvmError(error, ErrorCode.ImageMissing)) return undefined;
    throw error;
  }
}

/**
 * Builds the "tiny" guest image into images/tiny/ unless a valid one exists (or `force`).
 * Steps: 1 resolve the kernel and busybox packages with apt-cache; 2 fetch their .debs (cached in
 * images/cache); 3 unpack them; 4 extract vmlinux from the bzImage; 5 collect modules; 6 list busybox
 * applets; 7 write the initramfs; 8 write image.json; 9 rename the staged directory into place.
 * Undo: the work directory (a sibling of images/tiny) is removed whether the build succeeds or not,
 * or by the next build if this process dies; nothing is visible at images/tiny until step 9.
 */
export async function buildTinyImage(options: BuildTinyImageOptions = {}): Promise<TinyImageInfo> {
  const paths = tinyImagePaths(options.home);
  if (options.force !== true) {
    const existing = existingImage(options.home);
    if (existing !== undefined) return existing;
  }
  let step = "prepare";
  const progress = (next: string): void => {
    step = next;
    options.onProgress?.(next);
  };
  try {
    await mkdir(paths.cacheDir, { recursive: true });
    await removeStaleWorkDirs(imagesDir(options.home));
    const work = await makeWorkDir(imagesDir(options.home));
    try {
      return await buildIn(work, paths, progress, options.home);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } catch (error) {
    throw wrapBuildError(error, step, paths.cacheDir);
  }
}

async function fetchAndExtract(candidate: DebCandidate, cacheDir: string, dir: string, progress: (step: string) => void): Promise<void> {
  progress(`fetch ${candidate.name} ${candidate.version}`);
  const deb = await fetchDeb(cacheDir, candidate);
  progress(`unpack ${candidate.name}`);
  await extractDeb(deb.path, dir);
}

async function buildIn(work: string, paths: TinyImagePaths, progress: (step: string) => void, home: string | undefined): Promise<TinyImageInfo> {
  progress("resolve packages");
  const [kernelPackage, busyboxPackage] = await resolveCandidates([await resolveKernelPackageName(), BUSYBOX_PACKAGE]);
  if (kernelPackage === undefined || busyboxPackage === undefined) throw new Error("resolveCandidates returned too few records");
  const kernelRoot = join(work, "kernel");
  const busyboxRoot = join(work, "busybox");
  const scratch = join(work, "scratch");
  const staged = join(work, "image");
  await mkdir(scratch);
  await mkdir(staged);
  await fetchAndExtract(kernelPackage, paths.cacheDir, kernelRoot, progress);
  await fetchAndExtract(busyboxPackage, paths.cacheDir, busyboxRoot, progress);

  progress("extract vmlinux");
  const vmlinux = await extractVmlinux(kernelRoot, scratch);
  await writeFile(join(staged, basename(paths.kernel)), vmlinux);

  progress("collect modules");
  const release = await kernelRelease(kernelRoot);
  const modules = await collectModules(kernelRoot, release, TINY_MODULES, scratch);

  progress("build initramfs");
  const busyboxPath = join(busyboxRoot, "bin/busybox");
  // The downloaded busybox is static amd64, so it runs on the (amd64) host to list its applets.
  const { stdout: appletList } = await runCommand(busyboxPath, ["--list"]);
  const initrd = await buildInitrd({ busybox: await readFile(busyboxPath), appletList, modules: modules.data, guestFiles: await readGuestFiles() }, scratch);
  await writeFile(join(staged, basename(paths.initrd)), initrd);

  progress("write image.json");
  const info: TinyImageInfo = {
    dir: paths.dir,
    manifestPath: paths.manifest,
    vmlinux: { path: paths.kernel, size: vmlinux.length, sha256: sha256(vmlinux) },
    initrd: { path: paths.initrd, size: initrd.length, sha256: sha256(initrd) },
    initrdCompression: INITRD_COMPRESSION,
    kernel: { package: kernelPackage.name, version: kernelPackage.version, release },
    busybox: { package: busyboxPackage.name, version: busyboxPackage.version },
    guestProtocolVersion: GUEST_PROTOCOL_VERSION,
    builtAt: new Date(),
    modules: modules.data.map((module) => module.name),
  };
  await writeJsonAtomic(join(staged, basename(paths.manifest)), infoToManifest(info));

  progress("install");
  if (await installImage(staged, paths.dir, join(work, "previous"))) return info;
  // A concurrent build installed its image first; it is as good as ours.
  const theirs = readTinyImage(home);
  if (theirs === undefined) throw new Error(`${paths.dir} appeared during the build but holds no valid image`);
  return theirs;
}
