// Bundles the compiled CLI (dist/bin/snapvm.js, from tsc) into itself plus shared chunks beside it.
// Why: every resume starts two Node processes (the CLI and the instance's agent), and each one
// otherwise resolves and compiles ~150 modules (zod alone ~40 files); bundled, an agent starts with
// ~130 ms less CPU, which is what 16 forks starting at once on 2 cores wait for. The tsc output in
// dist/src stays for whoever imports modules directly; the bundle is what `snapvm` runs.
import { readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const binDir = resolve(import.meta.dirname, "../dist/bin");
const entry = join(binDir, "snapvm.js");

// Chunks of an earlier build have other hashed names: remove them, keep tsc's fresh entry.
for (const name of readdirSync(binDir)) {
  if (name.startsWith("chunk-")) rmSync(join(binDir, name));
}

await build({
  entryPoints: [entry],
  outdir: binDir,
  allowOverwrite: true,
  bundle: true,
  // Dynamic imports (commands, the agent's API stack) stay lazy: each becomes a chunk loaded on use.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // commander and yaml are CommonJS; their require() of Node built-ins needs a real require.
  banner: { js: "import { createRequire as snapvmCreateRequire } from 'node:module'; const require = snapvmCreateRequire(import.meta.url);" },
  chunkNames: "chunk-[hash]",
  entryNames: "[name]",
  // A native addon (its .node binary is found next to its own package at run time), and the AWS SDK, whose
  // CommonJS/ESM mix breaks when bundled ("S3Client is not a constructor"); both load from node_modules on use.
  external: ["zstd-napi", "@aws-sdk/*"],
  logLevel: "warning",
});
