import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { cleanStateDir, compressStateDir, decompressStateDir } from "./compress.ts";
import { makeStateDir, RAM_BYTES } from "./compress-fixture.ts";
import { readManifest } from "./read-manifest.ts";

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function allocated(path: string): number {
  return statSync(path).blocks * 512;
}

function entries(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Every file the manifest lists exists, and the memory bytes are the original ones either way. */
async function assertUsable(dir: string, ramSha: string): Promise<"compressed" | "uncompressed"> {
  const manifest = await readManifest(dir);
  for (const file of manifest.files) assert.ok(entries(dir).includes(file.name), `${file.name} is listed and present`);
  const memory = manifest.files.find((f) => f.role === "memory");
  if (memory?.compression === undefined) {
    assert.equal(memory?.name, "memory.ram");
    assert.equal(sha(join(dir, "memory.ram")), ramSha);
    assert.equal(manifest.snapshot?.compressed, undefined);
    return "uncompressed";
  }
  assert.equal(memory.name, "memory.ram.zst");
  assert.equal(manifest.snapshot?.compressed?.algorithm, "zstd");
  return "compressed";
}

/** Runs `call` in a child process that SIGKILLs itself at the fault point, as a power cut would. */
function crashAt(point: string, dir: string, call: "compressStateDir" | "decompressStateDir"): void {
  const module = pathToFileURL(join(import.meta.dirname, "compress.ts")).href;
  const code = `const m = await import(${JSON.stringify(module)}); await m.${call}(${JSON.stringify(dir)}, { level: 3 });`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    env: { ...process.env, SNAPVM_FAULT_POINT: point },
    encoding: "utf8",
  });
  assert.equal(child.signal, "SIGKILL", `${point}: the child died at the fault point (status ${String(child.status)}: ${child.stderr})`);
}

describe("compressing a state directory", () => {
  test("a sparse RAM file keeps its bytes and its holes through compress and decompress; the manifest flips both ways", async () => {
    const dir = makeStateDir();
    try {
      const ramSha = sha(join(dir, "memory.ram"));
      const devicesSha = sha(join(dir, "devices.state"));
      const before = await readManifest(dir);

      const compressed = await compressStateDir(dir, { level: 3 });
      assert.equal(compressed.changed, true);
      assert.deepEqual(
        compressed.files.map((f) => [f.from, f.to, f.apparentBytes]),
        [["memory.ram", "memory.ram.zst", RAM_BYTES]],
      );
      assert.deepEqual(entries(dir), ["devices.state", "manifest.json", "memory.ram.zst"]);
      const manifest = await readManifest(dir);
      assert.equal(manifest.formatVersion, "1.1.0");
      const zst = statSync(join(dir, "memory.ram.zst")).size;
      assert.deepEqual(manifest.files[0], {
        name: "memory.ram.zst",
        role: "memory",
        sizeBytes: zst,
        allocatedBytes: allocated(join(dir, "memory.ram.zst")),
        compression: { algorithm: "zstd", level: 3, original: { name: "memory.ram", sizeBytes: RAM_BYTES, allocatedBytes: 6 * 1024 * 1024 } },
      });
      assert.deepEqual(manifest.snapshot?.compressed, { algorithm: "zstd", level: 3, sizeBytes: zst });
      assert.ok(zst < 5 * 1024 * 1024, `4 MiB of random bytes and the rest zeros compress to ${zst} bytes`);

      const decompressed = await decompressStateDir(dir);
      assert.equal(decompressed.changed, true);
      assert.deepEqual(entries(dir), ["devices.state", "manifest.json", "memory.ram"]);
      assert.equal(statSync(join(dir, "memory.ram")).size, RAM_BYTES);
      assert.equal(sha(join(dir, "memory.ram")), ramSha);
      assert.equal(sha(join(dir, "devices.state")), devicesSha);
      const ram = allocated(join(dir, "memory.ram"));
      assert.ok(ram <= 6 * 1024 * 1024, `the holes came back as holes: ${ram} bytes allocated of ${RAM_BYTES}`);
      assert.deepEqual(await readManifest(dir), { ...before, formatVersion: "1.1.0" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("both directions are idempotent", async () => {
    const dir = makeStateDir();
    try {
      assert.equal((await decompressStateDir(dir)).changed, false);
      assert.equal((await compressStateDir(dir, { level: 1 })).changed, true);
      assert.equal((await compressStateDir(dir, { level: 1 })).changed, false);
      assert.equal((await decompressStateDir(dir)).changed, true);
      assert.equal((await decompressStateDir(dir)).changed, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("decompressing refuses when the filesystem is short, says how much is needed, and changes nothing", async () => {
    const dir = makeStateDir();
    try {
      await compressStateDir(dir, { level: 3 });
      const before = entries(dir);
      await assert.rejects(decompressStateDir(dir, { what: 'snapshot "warm" of "dev"', statfs: () => Promise.resolve({ bavail: 2560, bsize: 4096 }) }), {
        code: "E_INVALID_TRANSITION",
        message: `not enough space to decompress snapshot "warm" of "dev": it needs 70 MiB free in ${dir} and 10 MiB is available`,
        hint: "Free at least 60 MiB on that filesystem (`snapvm snapshot delete` removes snapshots you no longer need), then try again.",
      });
      assert.deepEqual(entries(dir), before);
      assert.equal((await readManifest(dir)).files[0]?.name, "memory.ram.zst");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a refusal just before the manifest flips leaves the state uncompressed and nothing behind", async () => {
    const dir = makeStateDir();
    try {
      const ramSha = sha(join(dir, "memory.ram"));
      await assert.rejects(compressStateDir(dir, { level: 3, beforeCommit: () => Promise.reject(new Error("a fork appeared")) }), /a fork appeared/);
      assert.deepEqual(entries(dir), ["devices.state", "manifest.json", "memory.ram"]);
      assert.equal(await assertUsable(dir, ramSha), "uncompressed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const compressCrashes = [
    ["compress:written", "uncompressed"],
    ["compress:renamed", "uncompressed"],
    ["compress:committed", "compressed"],
  ] as const;
  const decompressCrashes = [
    ["decompress:written", "compressed"],
    ["decompress:renamed", "compressed"],
    ["decompress:committed", "uncompressed"],
  ] as const;
  for (const [point, expected] of [...compressCrashes, ...decompressCrashes]) {
    test(`a crash at ${point} leaves a whole ${expected} state, and the next run cleans up`, async () => {
      const dir = makeStateDir();
      try {
        const ramSha = sha(join(dir, "memory.ram"));
        if (point.startsWith("decompress")) await compressStateDir(dir, { level: 3 });
        crashAt(point, dir, point.startsWith("decompress") ? "decompressStateDir" : "compressStateDir");
        assert.ok(entries(dir).length > 3, `the crash left something behind: ${entries(dir).join(" ")}`);
        assert.equal(await assertUsable(dir, ramSha), expected);
        await cleanStateDir(dir);
        assert.deepEqual(entries(dir), ["devices.state", "manifest.json", expected === "compressed" ? "memory.ram.zst" : "memory.ram"]);
        await compressStateDir(dir, { level: 3 });
        await decompressStateDir(dir);
        assert.equal(sha(join(dir, "memory.ram")), ramSha);
        assert.deepEqual(entries(dir), ["devices.state", "manifest.json", "memory.ram"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
