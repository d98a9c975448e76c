import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";

/** Root of everything snapvm writes. `SNAPVM_HOME` overrides `~/.snapvm` (tests use a temp dir). */
export function snapvmHome(): string {
  const fromEnv = process.env["SNAPVM_HOME"];
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : join(homedir(), ".snapvm");
}

export function instancesDir(home = snapvmHome()): string {
  return join(home, "instances");
}

export function imagesDir(home = snapvmHome()): string {
  return join(home, "images");
}

/** Interrupted S3 uploads (resume records, which hold age file keys) and downloads (partial copies), so the same command run again resumes them (0700). */
export function transfersDir(home = snapvmHome()): string {
  return join(home, "transfers");
}

/** An S3 download kept across runs (instance/bundles/download-cache.ts): the bytes so far, its record, its lock. */
export interface DownloadCachePaths {
  part: string;
  record: string;
  lock: string;
}

/** Named by a hash of the URL: the same import run again finds what the last run fetched. */
export function downloadCachePaths(url: string, home = snapvmHome()): DownloadCachePaths {
  const base = join(transfersDir(home), `import-${createHash("sha256").update(url).digest("hex").slice(0, 24)}`);
  return { part: `${base}.part`, record: `${base}.json`, lock: `${base}.lock` };
}

/** The resume record of an export to `s3://` (instance/bundles/resume-record.ts), named by a hash of the URL. */
export function exportRecordPath(url: string, home = snapvmHome()): string {
  return join(transfersDir(home), `export-${createHash("sha256").update(url).digest("hex").slice(0, 24)}.json`);
}
