// Builds the dashboard's front end (web/) into dist/web/: index.html, app.js (xterm.js included) and
// app.css. From npm packages only, no CDN: the page works offline and `snapvm ui` serves these three files.
import { copyFileSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const out = join(root, "dist/web");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, "web/src/main.ts")],
  outfile: join(out, "app.js"),
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync(join(root, "web/index.html"), join(out, "index.html"));

if (process.argv.includes("--sizes")) {
  for (const file of ["index.html", "app.js", "app.css"]) console.log(`${file}\t${statSync(join(out, file)).size}`);
}
