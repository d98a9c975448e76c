import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { runCommand } from "../util/run-command.ts";
import type { DebCandidate } from "./kernel-package.ts";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Cached .debs of `name`: apt-get download names them `<name>_<version with : as %3a>_<arch>.deb`. */
async function cachedDebs(cacheDir: string, name: string): Promise<string[]> {
  const entries = await readdir(cacheDir);
  return entries.filter((entry) => entry.startsWith(`${name}_`) && entry.endsWith(".deb")).map((entry) => join(cacheDir, entry));
}

async function findVerified(cacheDir: string, candidate: DebCandidate): Promise<string | undefined> {
  for (const path of await cachedDebs(cacheDir, candidate.name)) {
    if ((await sha256File(path)) === candidate.sha256) return path;
  }
  return undefined;
}

/**
 * Returns a .deb of exactly `candidate` in `cacheDir`, downloading it with `apt-get download` unless a
 * cached file has the index's sha256 (so a rebuild needs no network). Other versions of the package
 * are removed once the new one is verified, so the cache holds one kernel.
 * As root, apt warns that it downloads unsandboxed (the _apt user cannot write cacheDir); harmless.
 */
export async function fetchDeb(cacheDir: string, candidate: DebCandidate): Promise<{ path: string; downloaded: boolean }> {
  const cached = await findVerified(cacheDir, candidate);
  if (cached !== undefined) return { path: cached, downloaded: false };
  await runCommand("apt-get", ["download", `${candidate.name}=${candidate.version}`], { cwd: cacheDir });
  const path = await findVerified(cacheDir, candidate);
  if (path === undefined) {
    throw new SnapvmError(ErrorCode.ImageBuildFailed, `apt-get download ${candidate.name} produced no file with the expected sha256`, {
      hint: "Run `apt-get update` and retry; the mirror may have changed under apt's package lists.",
      details: { cacheDir, sha256: candidate.sha256 },
    });
  }
  for (const other of await cachedDebs(cacheDir, candidate.name)) {
    if (other !== path) await rm(other, { force: true });
  }
  return { path, downloaded: true };
}

/** Unpacks a .deb's files (not its maintainer scripts) into `dir`; nothing is installed on the host. */
export async function extractDeb(deb: string, dir: string): Promise<void> {
  await runCommand("dpkg", ["-x", deb, dir]);
}
