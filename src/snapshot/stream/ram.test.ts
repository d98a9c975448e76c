import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SnapvmError } from "../../errors/index.ts";
import { StreamBuilder } from "./fixtures/build-stream.ts";
import { inspectStream } from "./inspect.ts";

const PAGE = 4096;
const MEM_SIZE = 0x04n;
const ZERO = 0x02n;
const PAGE_FLAG = 0x08n;
const EOS = 0x10n;
const CONTINUE = 0x20n;
const XBZRLE = 0x40n;
const COMPRESS = 0x100n;
const MULTIFD_FLUSH = 0x200n;

/** A stream whose only section is "ram" with one block "pc.ram" of `pages` pages, then `records`. */
function ramStream(records: (b: StreamBuilder) => void, options: { pages?: number; version?: number; capabilities?: string[] } = {}): Buffer {
  const size = BigInt((options.pages ?? 4) * PAGE);
  const b = new StreamBuilder()
    .header()
    .configuration("pc-q35-10.0", options.capabilities)
    .startSection(1, "ram", 0, options.version ?? 4);
  b.be64(size | MEM_SIZE)
    .str8("pc.ram")
    .be64(size);
  if (options.capabilities?.includes("x-ignore-shared") === true) b.be64(0n);
  records(b);
  return b.be64(EOS).footer(1).eof().build();
}

function refused(input: Buffer, message: string): void {
  assert.throws(
    () => inspectStream(input),
    (error: unknown) => {
      assert.ok(error instanceof SnapvmError);
      assert.equal(error.code, "E_STATE_INVALID");
      assert.equal(error.message, message);
      return true;
    },
  );
}

describe("ram section records", () => {
  test("every page encoding is counted and skipped", () => {
    const stream = ramStream((b) => {
      b.be64(PAGE_FLAG).str8("pc.ram").raw(Buffer.alloc(PAGE, 1));
      b.be64(0x1000n | ZERO | CONTINUE).u8(0);
      b.be64(0x2000n | XBZRLE | CONTINUE)
        .u8(1)
        .be16(3)
        .raw(Buffer.from([1, 2, 3]));
      b.be64(0x3000n | COMPRESS | CONTINUE)
        .be32(2)
        .raw(Buffer.from([9, 9]));
      b.be64(MULTIFD_FLUSH);
    });
    const report = inspectStream(stream);
    assert.deepEqual(report.ram, {
      pageSize: PAGE,
      mappedRam: false,
      ignoreShared: false,
      blocks: [{ name: "pc.ram", sizeBytes: 4 * PAGE, pages: 3, zeroPages: 1 }],
      pages: 3,
      zeroPages: 1,
    });
    assert.equal(report.eofOffset, stream.length - 1);
  });

  test("unknown flag bits", () => {
    refused(
      ramStream((b) => b.be64(0x400n)),
      "QEMU migration stream is malformed at offset 64 (0x40): unknown RAM record flags 0x400",
    );
  });

  test("an RDMA hook record", () => {
    refused(
      ramStream((b) => b.be64(0x80n)),
      "QEMU migration stream is malformed at offset 64 (0x40): RAM hook record (RDMA) cannot appear in a file stream",
    );
  });

  test("a continuation before any block was named", () => {
    refused(
      ramStream((b) => b.be64(PAGE_FLAG | CONTINUE)),
      "QEMU migration stream is malformed at offset 64 (0x40): RAM page record continues a block, but no block was named before",
    );
  });

  test("a page for a block MEM_SIZE did not announce", () => {
    refused(
      ramStream((b) => b.be64(PAGE_FLAG).str8("vga.vram")),
      'QEMU migration stream is malformed at offset 64 (0x40): RAM page record for block "vga.vram", which MEM_SIZE did not announce',
    );
  });

  test("an unknown XBZRLE encoding", () => {
    refused(
      ramStream((b) => b.be64(XBZRLE).str8("pc.ram").u8(7)),
      "QEMU migration stream is malformed at offset 79 (0x4f): unknown XBZRLE encoding 0x7",
    );
  });

  test("a ram section version this decoder does not know", () => {
    refused(
      ramStream(() => undefined, { version: 5 }),
      "QEMU migration stream is malformed at offset 24 (0x18): ram section version 5; this decoder reads 4",
    );
  });

  test("block lengths that do not add up to the announced total", () => {
    const zero = new StreamBuilder()
      .header()
      .startSection(1, "ram", 0, 4)
      .be64(BigInt(PAGE) | MEM_SIZE)
      .str8("a")
      .be64(0n)
      .build();
    refused(zero, "QEMU migration stream is malformed at offset 33 (0x21): bad length: ram block a is 0x0 bytes, announced total has 0x1000 left");
    const over = new StreamBuilder()
      .header()
      .startSection(1, "ram", 0, 4)
      .be64(BigInt(PAGE) | MEM_SIZE)
      .str8("a")
      .be64(BigInt(2 * PAGE))
      .build();
    refused(over, "QEMU migration stream is malformed at offset 33 (0x21): bad length: ram block a is 0x2000 bytes, announced total has 0x1000 left");
  });
});

describe("mapped-ram", () => {
  /** One block of 4 pages: header, bitmap right after it, pages at 8192 (bits 0 and 2 set), then EOS. */
  function mapped(bitmapOffsetDelta = 0): Buffer {
    const head = new StreamBuilder().header().configuration("pc-q35-10.0", ["mapped-ram"]).startSection(1, "ram", 0, 4);
    head
      .be64(BigInt(4 * PAGE) | MEM_SIZE)
      .str8("pc.ram")
      .be64(BigInt(4 * PAGE));
    const headerAt = head.build().length;
    const bitmapOffset = headerAt + 28 + bitmapOffsetDelta;
    head.be32(1).be64(BigInt(PAGE)).be64(BigInt(bitmapOffset)).be64(8192n);
    const prefix = head.build();
    const file = Buffer.alloc(8192 + 4 * PAGE);
    prefix.copy(file);
    file[headerAt + 28] = 0b0101;
    return Buffer.concat([file, new StreamBuilder().be64(EOS).footer(1).eof().build()]);
  }

  test("pages are counted from the bitmap and skipped by offset", () => {
    const report = inspectStream(mapped());
    assert.deepEqual(report.ram?.blocks, [{ name: "pc.ram", sizeBytes: 4 * PAGE, mappedRam: { bitmapOffset: 139, pagesOffset: 8192, pagesInFile: 2 } }]);
    assert.equal(report.ram.pages, 2);
    assert.equal(report.eofOffset, 8192 + 4 * PAGE + 8 + 5);
  });

  test("offsets pointing backwards are refused, so the walk can never loop", () => {
    refused(
      mapped(-20),
      "QEMU migration stream is malformed at offset 111 (0x6f): bad mapped-ram offsets for pc.ram: bitmap at 119, pages at 8192, header ends at 139",
    );
  });

  test("with x-ignore-shared, a shared block has no bitmap and no pages", () => {
    const b = new StreamBuilder().header().configuration("pc-q35-10.0", ["x-ignore-shared", "mapped-ram"]).startSection(1, "ram", 0, 4);
    b.be64(BigInt(PAGE) | MEM_SIZE)
      .str8("mem")
      .be64(BigInt(PAGE))
      .be64(0n)
      .be32(1)
      .be64(BigInt(PAGE))
      .be64(0n)
      .be64(0n);
    const report = inspectStream(b.be64(EOS).footer(1).eof().build());
    assert.deepEqual(report.ram?.blocks, [{ name: "mem", sizeBytes: PAGE, regionAddress: "0x0", shared: true }]);
  });
});
