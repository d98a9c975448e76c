import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The modules `entry` loads before it runs (its static imports, transitively), as paths relative to the
 * repository. Dynamic imports are left out: they load on use, as chunks of the bundle (scripts/bundle.ts).
 */
async function staticClosure(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [resolve(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    splitting: true,
    outdir: "unused",
    external: ["zstd-napi", "@aws-sdk/*"],
    logLevel: "silent",
  });
  const inputs = result.metafile.inputs;
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop();
    if (file === undefined || seen.has(file)) continue;
    const input = inputs[file];
    if (input === undefined) continue;
    seen.add(file);
    for (const imported of input.imports) if (imported.kind === "import-statement" && imported.external !== true) stack.push(imported.path);
  }
  return [...seen];
}

/** Loaded at start, each costs every fork tens of ms of CPU and MiB of agent memory; they load on use instead. */
const HEAVY = [/node_modules\/zod\//, /node_modules\/yaml\//, /node_modules\/hono\//, /node_modules\/ws\//, /^src\/(crypto|bundle|remote)\//, /^src\/ui\//];

for (const entry of ["src/agent/group.ts", "src/cli/fork.ts"]) {
  test(`${entry} loads no schema, YAML, HTTP, S3, bundle or crypto code before it runs`, async () => {
    const closure = await staticClosure(entry);
    assert.ok(closure.length > 10, `the closure of ${entry} was found (${closure.length} files)`);
    const heavy = closure.filter((file) => HEAVY.some((pattern) => pattern.test(file)));
    assert.deepEqual(heavy, []);
  });
}
