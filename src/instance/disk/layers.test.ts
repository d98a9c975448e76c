import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { driver } from "../../driver/index.ts";
import { diskLayerPath, instancePaths, parseInstanceName, snapshotPaths, parseSnapshotTag, MANIFEST_NAME, type InstancePaths } from "../../paths/index.ts";
import { sampleManifest } from "../../snapshot/compress-fixture.ts";
import { dropIfUnused, pointDiskAt } from "./layers.ts";

const MiB = 1024 * 1024;

/**
 * A real qcow2 chain (qemu-img, no VM): base ← held ← top, disk.qcow2 → top; `held` is also the
 * layer of snapshot "warm"; `gone` (over base) is what a restore went back from; `frozen` is only a
 * snapshot's layer; `branch` ← `leaf` hangs off nothing the disk uses.
 */
describe("dropIfUnused: a disk layer is removed only when nothing needs it", () => {
  let home: string;
  let paths: InstancePaths;
  const layer = (id: string): string => diskLayerPath(paths, id);
  before(async () => {
    home = mkdtempSync(join(tmpdir(), "snapvm-layers-"));
    paths = instancePaths(parseInstanceName("dev"), home);
    mkdirSync(paths.disksDir, { recursive: true });
    await driver.disks.create(layer("base"), 4 * MiB);
    for (const [id, backing] of [
      ["held", "base"],
      ["top", "held"],
      ["gone", "base"],
      ["frozen", "base"],
      ["branch", "base"],
      ["leaf", "branch"],
    ] as const) {
      await driver.disks.createOverlay(layer(id), layer(backing), 4 * MiB);
    }
    await pointDiskAt(paths, layer("top"), false);
    for (const [tag, diskLayer] of [
      ["warm", "held"],
      ["cold", "frozen"],
    ] as const) {
      const dir = snapshotPaths(paths, parseSnapshotTag(tag)).dir;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, MANIFEST_NAME), JSON.stringify({ ...sampleManifest(), snapshot: { ...sampleManifest().snapshot, tag, diskLayer } }));
    }
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it("keeps the active layer", async () => {
    assert.equal(await dropIfUnused(paths, layer("top")), false);
    assert.ok(existsSync(layer("top")));
  });

  it("keeps a snapshot's layer, even with no layer above it", async () => {
    assert.equal(await dropIfUnused(paths, layer("frozen")), false);
    assert.ok(existsSync(layer("frozen")));
  });

  it("keeps a layer another layer is backed by", async () => {
    assert.equal(await dropIfUnused(paths, layer("branch")), false);
    assert.equal(await dropIfUnused(paths, layer("base")), false);
    assert.ok(existsSync(layer("branch")) && existsSync(layer("base")));
  });

  it("removes a layer nothing needs, and then the one below it is free too", async () => {
    assert.equal(await dropIfUnused(paths, layer("gone")), true);
    assert.ok(!existsSync(layer("gone")));
    assert.equal(await dropIfUnused(paths, layer("leaf")), true);
    assert.equal(await dropIfUnused(paths, layer("branch")), true);
    assert.ok(!existsSync(layer("branch")));
    assert.ok(existsSync(layer("base")) && existsSync(layer("held")) && existsSync(layer("top")), "the chain in use is untouched");
  });
});
