import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { makeStateDir, RAM_BYTES } from "../../snapshot/compress-fixture.ts";
import { readManifest } from "../../snapshot/read-manifest.ts";
import { acquireLock } from "../../store/lock.ts";
import { compressSnapshot, decompressSnapshot } from "./compress.ts";
import { listSnapshots, type SnapshotListEntry, type SnapshotSummary } from "./list.ts";
import { parseInstanceName, parseSnapshotTag } from "../../paths/index.ts";

const DEV = parseInstanceName("dev");
const WARM = parseSnapshotTag("warm");
const isGood = (s: SnapshotListEntry): s is SnapshotSummary => s.kind !== "broken";

/** A home with instance "dev" holding snapshot "warm" (no VM: files only) and a config asking for level 2. */
function makeHome(): string {
  const home = mkdtempSync(join(tmpdir(), "snapvm-home-"));
  const dev = join(home, "instances", "dev");
  mkdirSync(join(dev, "snapshots"), { recursive: true });
  writeFileSync(join(dev, "snapvm.yaml"), "snapshot:\n  compression: zstd\n  level: 2\n");
  const state = makeStateDir();
  cpSync(state, join(dev, "snapshots", "warm"), { recursive: true });
  rmSync(state, { recursive: true, force: true });
  return home;
}

function addFork(home: string, name: string): void {
  const dir = join(home, "instances", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "snapvm.yaml"), "{}\n");
  writeFileSync(join(dir, "origin.json"), JSON.stringify({ instance: "dev", tag: "warm", createdAt: "2026-11-22T10:00:00.000Z" }));
}

describe("compressing a snapshot", () => {
  test("list shows the compressed size on disk and the uncompressed length; the config gives the level", async () => {
    const home = makeHome();
    try {
      const [before] = (await listSnapshots(DEV, home)).filter(isGood);
      assert.equal(before?.compressed, false);
      const r = await compressSnapshot(DEV, WARM, { home });
      assert.deepEqual([r.instance, r.tag, r.changed], [DEV, WARM, true]);
      const snapshotDir = join(home, "instances", "dev", "snapshots", "warm");
      assert.deepEqual(readdirSync(snapshotDir).sort(), ["devices.state", "manifest.json", "memory.ram.zst"], "the lock is released");
      const [after] = (await listSnapshots(DEV, home)).filter(isGood);
      assert.equal(after?.compressed, true);
      assert.equal(
        after.apparentBytes,
        RAM_BYTES + 300 + statSync(join(snapshotDir, "manifest.json")).size,
        "apparent counts the RAM file at its uncompressed length",
      );
      assert.equal((await readManifest(snapshotDir)).snapshot?.compressed?.level, 2, "the level comes from snapvm.yaml");
      assert.ok(after.allocatedBytes < before.allocatedBytes, `${after.allocatedBytes} on disk after, ${before.allocatedBytes} before`);
      assert.equal(
        after.allocatedBytes,
        ["devices.state", "manifest.json", "memory.ram.zst"].reduce((sum, f) => sum + statSync(join(snapshotDir, f)).blocks * 512, 0),
      );

      await assert.rejects(decompressSnapshot(DEV, WARM, { home, statfs: () => Promise.resolve({ bavail: 0, bsize: 4096 }) }), {
        code: "E_INVALID_TRANSITION",
        message: new RegExp(`^not enough space to decompress snapshot "warm" of "dev": it needs 70 MiB free in ${snapshotDir} and 0 MiB is available$`),
      });
      assert.equal((await decompressSnapshot(DEV, WARM, { home })).changed, true);
      assert.equal((await listSnapshots(DEV, home)).filter(isGood)[0]?.compressed, false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("refused while a fork maps the snapshot's memory", async () => {
    const home = makeHome();
    try {
      addFork(home, "web-1");
      await assert.rejects(compressSnapshot(DEV, WARM, { home }), {
        code: "E_INVALID_TRANSITION",
        message: 'snapshot "warm" of "dev" cannot be compressed: fork "web-1" maps its memory',
      });
      assert.equal((await listSnapshots(DEV, home)).filter(isGood)[0]?.compressed, false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("a decompress waits for a compression in progress, then undoes it", async () => {
    const home = makeHome();
    try {
      const snapshotDir = join(home, "instances", "dev", "snapshots", "warm");
      await compressSnapshot(DEV, WARM, { home });
      const held = await acquireLock(join(snapshotDir, ".compress.lock"), "test");
      let done = false;
      const waiting = decompressSnapshot(DEV, WARM, { home }).then((r) => {
        done = true;
        return r;
      });
      await delay(600);
      assert.equal(done, false, "it waits while the lock is held");
      await held.release();
      assert.equal((await waiting).changed, true);
      assert.deepEqual(readdirSync(snapshotDir).sort(), ["devices.state", "manifest.json", "memory.ram"]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("a level outside 1–19 is refused", async () => {
    const home = makeHome();
    try {
      await assert.rejects(compressSnapshot(DEV, WARM, { home, level: 22 }), {
        code: "E_INVALID_ARGUMENT",
        message: "zstd level must be a whole number from 1 to 19, got 22",
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
