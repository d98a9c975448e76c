import { spawnSync } from "node:child_process";

/**
 * Renders the SVG to PNG with librsvg's rsvg-convert when it is installed (Debian: librsvg2-bin); no
 * browser, no npm dependency. Returns why not otherwise.
 */
export function svgToPng(svgPath: string, pngPath: string): { ok: true } | { ok: false; reason: string } {
  const result = spawnSync("rsvg-convert", ["--background-color", "white", "-o", pngPath, svgPath], { encoding: "utf8" });
  if (result.error !== undefined) return { ok: false, reason: "rsvg-convert is not installed (apt-get install librsvg2-bin)" };
  if (result.status !== 0) return { ok: false, reason: `rsvg-convert failed: ${result.stderr.trim()}` };
  return { ok: true };
}
