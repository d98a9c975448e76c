import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { collectModules, extractVmlinux, kernelRelease } from "./kernel-files.ts";

const ELF = Buffer.concat([Buffer.from("7f454c46", "hex"), Buffer.alloc(5000, 7)]);

/** A bzImage whose payload is `stream` plus the 4-byte size the kernel build appends (not for gzip). */
function bzImage(stream: Buffer, appendSize: boolean): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(ELF.length);
  const payload = appendSize ? Buffer.concat([stream, size]) : stream;
  const image = Buffer.alloc(5 * 512 + payload.length);
  image[0x1f1] = 4;
  image.write("HdrS", 0x202, "latin1");
  image.writeUInt16LE(0x020f, 0x206);
  image.writeUInt32LE(0, 0x248);
  image.writeUInt32LE(payload.length, 0x24c);
  payload.copy(image, 5 * 512);
  return image;
}

async function withKernel(fn: (root: string, work: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "snapvm-kernel-test-"));
  try {
    await mkdir(join(root, "pkg/boot"), { recursive: true });
    await mkdir(join(root, "work"));
    await fn(join(root, "pkg"), join(root, "work"));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

for (const [name, compress, appendSize] of [
  ["gzip", (data: Buffer) => gzipSync(data), false],
  ["xz", (data: Buffer) => execFileSync("xz", ["-z", "-c", "--check=crc32"], { input: data }), true],
  ["zstd", (data: Buffer) => execFileSync("zstd", ["-q", "-c"], { input: data }), true],
] as const) {
  test(`extracts a ${name} vmlinux from boot/vmlinuz-*`, async () => {
    await withKernel(async (root, work) => {
      await writeFile(join(root, "boot/vmlinuz-6.1.0-1-amd64"), bzImage(compress(ELF), appendSize));
      await writeFile(join(root, "boot/config-6.1.0-1-amd64"), "");
      assert.deepEqual(await extractVmlinux(root, work), ELF);
    });
  });
}

test("collects modules in order, decompressing, and skips built-ins", async () => {
  await withKernel(async (root, work) => {
    const dir = join(root, "lib/modules/6.1.0-1-amd64");
    await mkdir(join(dir, "kernel/drivers/virtio"), { recursive: true });
    const ring = Buffer.from("ring\0license=GPL\0depends=\0");
    const virtio = Buffer.from("virtio\0depends=virtio_ring\0");
    await writeFile(join(dir, "kernel/drivers/virtio/virtio_ring.ko.xz"), execFileSync("xz", ["-z", "-c"], { input: ring }));
    await writeFile(join(dir, "kernel/drivers/virtio/virtio.ko"), virtio);
    await writeFile(join(dir, "modules.builtin"), "kernel/fs/ext4/ext4.ko\n");
    assert.equal(await kernelRelease(root), "6.1.0-1-amd64");
    const modules = await collectModules(root, "6.1.0-1-amd64", ["virtio_ring", "virtio", "ext4"], work);
    assert.deepEqual(modules.data, [
      { name: "virtio_ring", data: ring },
      { name: "virtio", data: virtio },
    ]);
    assert.deepEqual(modules.builtin, ["ext4"]);
    await assert.rejects(collectModules(root, "6.1.0-1-amd64", ["virtio", "virtio_ring"], work), /virtio needs virtio_ring/);
  });
});
