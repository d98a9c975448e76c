import { test } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../errors/index.ts";
import { tinyImagePaths } from "../paths/index.ts";
import { infoToManifest, manifestToInfo, MANIFEST_MAX_BYTES, parseManifest, type ImageManifestFile } from "./manifest.ts";
import { SAMPLE_MANIFEST } from "./fixtures/sample-manifest.ts";

test("manifest file → info → file round-trips", () => {
  const paths = tinyImagePaths("/home/x/.snapvm");
  const info = manifestToInfo(SAMPLE_MANIFEST, paths);
  assert.equal(info.vmlinux.path, "/home/x/.snapvm/images/tiny/vmlinux");
  assert.equal(info.initrd.path, "/home/x/.snapvm/images/tiny/initrd.img");
  assert.equal(info.builtAt.getTime(), Date.parse(SAMPLE_MANIFEST.builtAt));
  assert.deepEqual(infoToManifest(info), SAMPLE_MANIFEST);
  assert.deepEqual(parseManifest(JSON.stringify(infoToManifest(info)), "m"), SAMPLE_MANIFEST);
});

function assertInvalid(text: string, why: RegExp): void {
  assert.throws(
    () => parseManifest(text, "/h/images/tiny/image.json"),
    (error: unknown) =>
      isSnapvmError(error, "E_IMAGE_MISSING") &&
      error.message.startsWith("/h/images/tiny/image.json is not a valid tiny image manifest: ") &&
      why.test(error.message) &&
      error.hint === "Run `snapvm image build --force` to rebuild the image.",
  );
}

test("refuses other format versions, broken JSON, missing fields and oversized files", () => {
  assertInvalid(JSON.stringify({ ...SAMPLE_MANIFEST, formatVersion: 2 }), /format version 2, this snapvm reads 1$/);
  assertInvalid("{", /not JSON$/);
  assertInvalid("null", /expected object/);
  const withoutKernel: Partial<ImageManifestFile> = { ...SAMPLE_MANIFEST };
  delete withoutKernel.kernel;
  assertInvalid(JSON.stringify(withoutKernel), /kernel/);
  assertInvalid(JSON.stringify({ ...SAMPLE_MANIFEST, files: { ...SAMPLE_MANIFEST.files, initrd: { size: 1, sha256: "nothex" } } }), /sha256/);
  assertInvalid(" ".repeat(MANIFEST_MAX_BYTES + 1), /larger than 65536 bytes$/);
});
