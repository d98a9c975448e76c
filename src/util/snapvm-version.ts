import { readFileSync } from "node:fs";

let cached: string | undefined;

/** snapvm's own version, from package.json (found above src/util and dist/src/util). */
export function snapvmVersion(): string {
  if (cached !== undefined) return cached;
  for (const relative of ["../../package.json", "../../../package.json"]) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (parsed.name === "snapvm" && parsed.version !== undefined) return (cached = parsed.version);
    } catch {
      // try the next candidate
    }
  }
  return (cached = "0.0.0");
}
