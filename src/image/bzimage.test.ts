import { test } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../errors/index.ts";
import { decompressorInput, detectCompression, parseBzImage, verifyVmlinux } from "./bzimage.ts";

/** A minimal bzImage: setup header fields only, the payload placed after the setup sectors. */
function fakeBzImage(payload: Buffer, options: { setupSects?: number; payloadOffset?: number; version?: number } = {}): Buffer {
  const setupSects = options.setupSects ?? 3;
  const codeStart = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  const payloadOffset = options.payloadOffset ?? 0x100;
  const image = Buffer.alloc(codeStart + payloadOffset + payload.length + 64);
  image[0x1f1] = setupSects;
  image.write("HdrS", 0x202, "latin1");
  image.writeUInt16LE(options.version ?? 0x020f, 0x206);
  image.writeUInt32LE(payloadOffset, 0x248);
  image.writeUInt32LE(payload.length, 0x24c);
  payload.copy(image, codeStart + payloadOffset);
  return image;
}

function withSize(stream: Buffer, size: number): Buffer {
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(size);
  return Buffer.concat([stream, trailer]);
}

const XZ_STREAM = Buffer.concat([Buffer.from("fd377a585a00", "hex"), Buffer.from("xz-body")]);
const ZSTD_STREAM = Buffer.concat([Buffer.from("28b52ffd", "hex"), Buffer.from("zstd-body")]);

test("finds an xz payload after the setup sectors and reads the size trailer", () => {
  const parsed = parseBzImage(fakeBzImage(withSize(XZ_STREAM, 123456)));
  assert.equal(parsed.compression, "xz");
  assert.equal(parsed.uncompressedSize, 123456);
  assert.deepEqual(parsed.data, XZ_STREAM);
});

test("setup_sects 0 means 4", () => {
  const parsed = parseBzImage(fakeBzImage(withSize(ZSTD_STREAM, 99), { setupSects: 0 }));
  assert.equal(parsed.compression, "zstd");
  assert.deepEqual(parsed.data, ZSTD_STREAM);
  assert.equal(parsed.uncompressedSize, 99);
});

test("a gzip payload is handed over whole: its own trailer ends in the size", () => {
  const gzip = withSize(Buffer.concat([Buffer.from("1f8b08", "hex"), Buffer.from("gzip-body")]), 4242);
  const parsed = parseBzImage(fakeBzImage(gzip));
  assert.equal(parsed.compression, "gzip");
  assert.deepEqual(parsed.data, gzip);
  assert.equal(parsed.uncompressedSize, 4242);
  assert.deepEqual(decompressorInput("gzip", gzip), gzip);
  assert.deepEqual(decompressorInput("zstd", withSize(ZSTD_STREAM, 1)), ZSTD_STREAM);
});

test("detectCompression knows the three magics and nothing else", () => {
  assert.equal(detectCompression(Buffer.from("fd377a585a0000", "hex")), "xz");
  assert.equal(detectCompression(Buffer.from("28b52ffd00", "hex")), "zstd");
  assert.equal(detectCompression(Buffer.from("1f8b08", "hex")), "gzip");
  assert.equal(detectCompression(Buffer.from("5d000080", "hex")), undefined); // lzma
  assert.equal(detectCompression(Buffer.alloc(1)), undefined);
});

function assertBuildError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => isSnapvmError(error, "E_IMAGE_BUILD_FAILED") && message.test(error.message));
}

test("rejects what is not a usable bzImage", () => {
  assertBuildError(() => parseBzImage(Buffer.alloc(100)), /^bzImage: file too short \(100 bytes\)$/);
  assertBuildError(() => parseBzImage(Buffer.alloc(4096)), /^bzImage: no HdrS boot header$/);
  assertBuildError(() => parseBzImage(fakeBzImage(withSize(XZ_STREAM, 1), { version: 0x0206 })), /boot protocol 2\.6 is older than 2\.08/);
  const lzma = withSize(Buffer.from("5d0000800000ffff", "hex"), 1);
  assertBuildError(() => parseBzImage(fakeBzImage(lzma)), /unsupported payload compression \(magic 5d0000800000\)/);
  const truncated = fakeBzImage(withSize(XZ_STREAM, 1)).subarray(0, 4 * 512);
  assertBuildError(() => parseBzImage(truncated), /lies outside the 2048-byte file/);
});

test("verifyVmlinux wants an ELF of the promised size", () => {
  const elf = Buffer.concat([Buffer.from("7f454c46", "hex"), Buffer.alloc(12)]);
  verifyVmlinux(elf, 16);
  assertBuildError(() => {
    verifyVmlinux(elf, 17);
  }, /has 16 bytes, the header says 17/);
  assertBuildError(() => {
    verifyVmlinux(Buffer.alloc(16), 16);
  }, /not an ELF file/);
});
