import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GUEST_FILES } from "./initramfs.ts";

/**
 * The repository's guest/ folder. Searched upwards from this module because the module runs both
 * from src/image (tsx) and from dist/src/image (built), at different depths.
 */
export function guestDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, "guest");
    if (existsSync(join(candidate, "snapvm-guest-agent"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`guest/ folder not found above ${fileURLToPath(import.meta.url)}`);
}

/** Contents of every GUEST_FILES source, by source name. */
export async function readGuestFiles(dir = guestDir()): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const spec of GUEST_FILES) files.set(spec.source, await readFile(join(dir, spec.source)));
  return files;
}
