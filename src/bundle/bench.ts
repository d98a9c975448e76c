/**
 * The bundle writer and reader alone, next to the do-it-yourself pipeline, on one sparse file:
 * `node --import tsx src/bundle/bench.ts FILE [plain|age] [runs]`. Per run, in this order, each output in the
 * file's directory: snapvm's export (writeBundle [→ age] → file), DIY's (`cp --sparse=always` then
 * `tar -cS | zstd -T0 -3 [| age -r]`), snapvm's import of its bundle and DIY's (`[age -d |] zstd -d | tar -x`).
 * The page cache is not dropped (that needs root); runs alternate so both see the same cache and load.
 * Prints seconds per run and the medians. A benchmark, not a test.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createDecryptStream, createEncryptStream, generateIdentity, parseIdentity, parseRecipient } from "../crypto/age/index.ts";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, FRAME_BYTES, type BundleManifest } from "./format.ts";
import { BundleReader } from "./read.ts";
import { writeBundle, type BundleSource } from "./write.ts";

const [file, mode = "age", runsText = "3"] = process.argv.slice(2);
if (file === undefined || (mode !== "age" && mode !== "plain")) throw new Error("usage: bench.ts FILE [plain|age] [runs]");
const encrypted = mode === "age";
const keys = generateIdentity();
const work = await mkdtemp(join(dirname(file), "bundle-bench-"));
const keyFile = join(work, "key.txt");
await writeFile(keyFile, `${keys.identity}\n`, { mode: 0o600 });
const size = (await stat(file)).size;
const source: BundleSource = { entry: { name: basename(file), role: "memory", sizeBytes: size, allocatedBytes: size }, path: file };
const manifest: BundleManifest = {
  format: BUNDLE_FORMAT,
  formatVersion: BUNDLE_FORMAT_VERSION,
  createdAt: new Date().toISOString(),
  snapvmVersion: "bench",
  source: { instance: "bench", tag: "bench", host: "bench" },
  qemuVersion: "10",
  accel: "tcg",
  frameBytes: FRAME_BYTES,
  config: "",
  state: {},
  files: [source.entry],
};

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function shell(script: string): Promise<void> {
  const result = spawnSync("bash", ["-euo", "pipefail", "-c", script], { stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`\`${script}\` exited ${String(result.status)}`);
  return Promise.resolve();
}

const out = join(work, "out.bundle");
const diyOut = join(work, "out.tar.zst");
const into = join(work, "in");
const rows: Record<string, number[]> = { "snapvm export": [], "diy export": [], "snapvm import": [], "diy import": [] };
try {
  for (let run = 0; run < Number(runsText); run++) {
    rows["snapvm export"]?.push(
      await timed(async () => {
        const { stream } = writeBundle(manifest, [source]);
        const sink = createWriteStream(out);
        if (encrypted) await pipeline(stream, createEncryptStream([parseRecipient(keys.recipient)]), sink);
        else await pipeline(stream, sink);
      }),
    );
    const copy = join(work, "copy");
    const age = encrypted ? `| age -r ${keys.recipient}` : "";
    rows["diy export"]?.push(
      await timed(() => shell(`cp --sparse=always ${file} ${copy} && tar -C ${work} -cS copy | zstd -q -T0 -3 ${age} > ${diyOut} && rm ${copy}`)),
    );
    rows["snapvm import"]?.push(
      await timed(async () => {
        await rm(into, { recursive: true, force: true });
        await mkdir(into);
        const input = createReadStream(out, { highWaterMark: 4 * 2 ** 20 });
        const reader = new BundleReader(encrypted ? input.pipe(createDecryptStream([parseIdentity(keys.identity)])) : input);
        const read = await reader.manifest();
        for (const entry of read.files) await reader.readFile(entry, join(into, entry.name));
        await reader.finish();
      }),
    );
    const decrypt = encrypted ? `age -d -i ${keyFile} < ${diyOut} |` : `cat ${diyOut} |`;
    rows["diy import"]?.push(await timed(() => shell(`rm -rf ${into} && mkdir ${into} && ${decrypt} zstd -q -d -T0 | tar -C ${into} -xS`)));
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
for (const [name, values] of Object.entries(rows))
  console.log(`${mode} ${name}: ${values.map((v) => v.toFixed(2)).join(" ")} s, median ${median(values).toFixed(2)} s`);
