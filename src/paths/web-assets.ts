import { fileURLToPath } from "node:url";

/**
 * The dashboard's built front end (`npm run build` writes it). Two levels above both src/paths/ (run from
 * source) and dist/bin/ (the bundled CLI) is the package root.
 */
export function webAssetsDir(): string {
  return fileURLToPath(new URL("../../dist/web/", import.meta.url));
}

/** The files of dist/web/ the dashboard serves, each with its content type; nothing else is served. */
export const WEB_ASSETS: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

/** `npm run bench` writes its results here (bench/results/TIME.json); the dashboard charts the latest. */
export function benchResultsDir(): string {
  return fileURLToPath(new URL("../../bench/results/", import.meta.url));
}
