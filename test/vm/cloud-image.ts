import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Builds the test's Debian cloud image: debootstrap, cloud-init, sshd, syslinux. See the script. */
export const CLOUD_IMAGE_SCRIPT = resolve(import.meta.dirname, "cloud-image/build.sh");

/** Built images and the .debs they were made from, kept across runs. */
export const CLOUD_IMAGE_CACHE = process.env["SNAPVM_TEST_CLOUD_IMAGES"] ?? join(homedir(), ".snapvm", "test-images");

const PREFIX = "debian-cloud-";
/** A cold build took about 3 minutes here (most of it downloading and configuring packages). */
const BUILD_TIMEOUT_MS = 15 * 60_000;

/** The image's file name carries the script's hash: editing the script builds a new image. */
export function cloudImagePath(): string {
  const hash = createHash("sha256").update(readFileSync(CLOUD_IMAGE_SCRIPT)).digest("hex").slice(0, 16);
  return join(CLOUD_IMAGE_CACHE, `${PREFIX}${hash}.qcow2`);
}

/** The kernel and initramfs build.sh leaves beside the image, for direct kernel boot. */
export function cloudImageBootFiles(image: string): { kernel: string; initrd: string } {
  const stem = image.replace(/\.qcow2$/, "");
  return { kernel: `${stem}.vmlinuz`, initrd: `${stem}.initrd.img` };
}

/**
 * The path of a bootable qcow2 that runs real cloud-init and sshd, building it first unless the
 * cache has the one for this script. Needs root and the packages scripts/setup-host.sh installs.
 * Images of older scripts are removed once the new one is built.
 */
export async function ensureCloudImage(
  log: (line: string) => void = (line) => {
    process.stderr.write(`${line}\n`);
  },
): Promise<string> {
  const image = cloudImagePath();
  if (existsSync(image)) return image;
  mkdirSync(CLOUD_IMAGE_CACHE, { recursive: true });
  const started = performance.now();
  log(`building the cloud test image ${image} (a few minutes, once)`);
  await runScript([CLOUD_IMAGE_SCRIPT, image, join(CLOUD_IMAGE_CACHE, "debs")], log);
  log(`built the cloud test image in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const keep = new Set([image, ...Object.values(cloudImageBootFiles(image))]);
  for (const entry of readdirSync(CLOUD_IMAGE_CACHE)) {
    if (entry.startsWith(PREFIX) && !keep.has(join(CLOUD_IMAGE_CACHE, entry))) rmSync(join(CLOUD_IMAGE_CACHE, entry), { force: true });
  }
  return image;
}

function runScript(args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", args, { stdio: ["ignore", "pipe", "pipe"], timeout: BUILD_TIMEOUT_MS, killSignal: "SIGTERM" });
    let tail = "";
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim() !== "") log(`  ${line}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${args[0] ?? "build.sh"} failed (${signal ?? `exit ${code ?? "?"}`}); see its output above:\n${tail}`));
    });
  });
}
