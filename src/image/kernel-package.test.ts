import { test } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../errors/index.ts";
import { parseAptRecords, parseKernelDependency } from "./kernel-package.ts";

test("the metapackage's kernel dependency is found, not hardcoded", () => {
  assert.equal(parseKernelDependency("linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n"), "linux-image-6.1.0-56-amd64");
  const alternatives = "linux-image-amd64\n |Depends: <linux-image-virtual>\n |Depends: linux-image-6.12.9-amd64\n  Depends: linux-image-6.12.8-amd64\n";
  assert.equal(parseKernelDependency(alternatives), "linux-image-6.12.9-amd64");
  assert.throws(
    () => parseKernelDependency("linux-image-amd64\n  Recommends: firmware-linux-free\n"),
    (error: unknown) => isSnapvmError(error, "E_IMAGE_BUILD_FAILED") && error.message === "linux-image-amd64 does not depend on a linux-image package",
  );
});

const SHA_A = "a86e2049672f52354c4536a089203b6c82639420424d31c91cf31a181fd4d8f1";
const SHA_B = "0".repeat(64);

test("apt-cache show records parse one per stanza", () => {
  const output = [
    "Package: linux-image-6.1.0-56-amd64",
    "Source: linux-signed-amd64 (6.1.192+2)",
    "Version: 6.1.192-2",
    "Architecture: amd64",
    "Description: Linux 6.1 for 64-bit PCs (signed)",
    " The Linux kernel 6.1 and modules.",
    `SHA256: ${SHA_A}`,
    "",
    "Package: busybox-static",
    "Version: 1:1.35.0-4+deb12u1+b1",
    "Architecture: amd64",
    `SHA256: ${SHA_B}`,
    "",
  ].join("\n");
  assert.deepEqual(parseAptRecords(output), [
    { name: "linux-image-6.1.0-56-amd64", version: "6.1.192-2", architecture: "amd64", sha256: SHA_A },
    { name: "busybox-static", version: "1:1.35.0-4+deb12u1+b1", architecture: "amd64", sha256: SHA_B },
  ]);
});

test("a record without a usable SHA256 is refused", () => {
  assert.throws(
    () => parseAptRecords("Package: x\nVersion: 1\nArchitecture: amd64\nSHA256: nothex\n"),
    (error: unknown) => isSnapvmError(error, "E_IMAGE_BUILD_FAILED"),
  );
  assert.deepEqual(parseAptRecords("\n\n"), []);
});
