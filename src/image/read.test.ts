import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSnapvmError } from "../errors/index.ts";
import { tinyImagePaths } from "../paths/index.ts";
import { readTinyImage, requireTinyImage } from "./read.ts";
import { SAMPLE_MANIFEST } from "./fixtures/sample-manifest.ts";

function withHome(fn: (home: string) => void): void {
  const home = mkdtempSync(join(tmpdir(), "snapvm-image-test-"));
  try {
    fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function writeImage(home: string): void {
  const paths = tinyImagePaths(home);
  mkdirSync(paths.dir, { recursive: true });
  writeFileSync(paths.kernel, Buffer.alloc(10));
  writeFileSync(paths.initrd, Buffer.alloc(4));
  writeFileSync(paths.manifest, JSON.stringify(SAMPLE_MANIFEST));
}

test("an absent image reads as undefined and is required with a hint", () => {
  withHome((home) => {
    assert.equal(readTinyImage(home), undefined);
    assert.throws(
      () => requireTinyImage(home),
      (error: unknown) =>
        isSnapvmError(error, "E_IMAGE_MISSING") &&
        error.hint === "Run `snapvm image build` first." &&
        error.message === `the tiny guest image is not built (${join(home, "images/tiny")})`,
    );
  });
});

test("a complete image reads with absolute paths", () => {
  withHome((home) => {
    writeImage(home);
    const info = requireTinyImage(home);
    assert.equal(info.vmlinux.path, join(home, "images/tiny/vmlinux"));
    assert.deepEqual(info.modules, ["virtio_ring", "virtio"]);
  });
});

test("a missing file makes the image absent; a wrong size makes it invalid", () => {
  withHome((home) => {
    writeImage(home);
    writeFileSync(tinyImagePaths(home).initrd, Buffer.alloc(5));
    assert.throws(
      () => readTinyImage(home),
      (error: unknown) =>
        isSnapvmError(error, "E_IMAGE_MISSING") && error.message.endsWith("initrd.img has 5 bytes, " + `${tinyImagePaths(home).manifest} says 4`),
    );
    unlinkSync(tinyImagePaths(home).initrd);
    assert.equal(readTinyImage(home), undefined);
  });
});
