import { limitError, streamError } from "./errors.ts";
import { MAPPED_RAM_HEADER_VERSION, RamFlag } from "./format.ts";
import type { Cursor } from "./reader.ts";
import type { RamBlockReport, RamReport } from "./report.ts";

const KNOWN_FLAGS = Object.values(RamFlag).reduce((a, b) => a | b, 0);

/** What the "ram" section needs from the rest of the stream, and the summary it builds across parts. */
export interface RamContext {
  report: RamReport;
  maxBlocks: number;
  /** Page records name their block; a map keeps that lookup O(1) over millions of records. */
  byName: Map<string, RamBlockReport>;
  /** The block named by the last page record, for RAM_SAVE_FLAG_CONTINUE. */
  current?: RamBlockReport;
}

export function newRamContext(pageSize: number, mappedRam: boolean, ignoreShared: boolean, maxBlocks: number): RamContext {
  return { report: { pageSize, mappedRam, ignoreShared, blocks: [], pages: 0, zeroPages: 0 }, maxBlocks, byName: new Map() };
}

/**
 * Walks the records of one "ram" section part (ram.c, section version 4) up to and including its
 * RAM_SAVE_FLAG_EOS, counting pages instead of keeping them. Each record is a be64 whose low bits
 * (below the target page size) are flags and whose high bits are an address or, for MEM_SIZE, the
 * total of the block lengths that follow. Every record consumes bytes and mapped-ram only seeks
 * forward, so the walk always ends.
 */
export function readRamRecords(cursor: Cursor, ram: RamContext): void {
  const pageMask = BigInt(ram.report.pageSize - 1);
  for (;;) {
    const recordOffset = cursor.offset;
    const header = cursor.be64("ram record header");
    let flags = Number(header & pageMask);
    const addr = header & ~pageMask;
    if ((flags & ~KNOWN_FLAGS) !== 0 || (flags & RamFlag.Full) !== 0) {
      throw streamError(recordOffset, `unknown RAM record flags 0x${flags.toString(16)}`, { flags });
    }
    if (flags & RamFlag.MemSize) {
      readBlockList(cursor, ram, addr, recordOffset);
      flags &= ~RamFlag.MemSize;
    }
    if (flags & RamFlag.Zero) {
      const block = pageBlock(cursor, ram, flags, recordOffset);
      cursor.skip(1, "zero page fill byte");
      block.zeroPages = (block.zeroPages ?? 0) + 1;
      ram.report.zeroPages++;
    } else if (flags & RamFlag.Page) {
      const block = pageBlock(cursor, ram, flags, recordOffset);
      cursor.skip(ram.report.pageSize, "page contents");
      countPage(ram, block);
    } else if (flags & RamFlag.Xbzrle) {
      const block = pageBlock(cursor, ram, flags, recordOffset);
      const encoding = cursor.u8("XBZRLE encoding");
      if (encoding !== 1) throw streamError(cursor.offset - 1, `unknown XBZRLE encoding 0x${encoding.toString(16)}`);
      cursor.skip(cursor.be16("XBZRLE length"), "XBZRLE data");
      countPage(ram, block);
    } else if (flags & RamFlag.CompressPage) {
      const block = pageBlock(cursor, ram, flags, recordOffset);
      cursor.skip(cursor.be32("compressed page length"), "compressed page");
      countPage(ram, block);
    } else if (flags & RamFlag.Hook) {
      throw streamError(recordOffset, "RAM hook record (RDMA) cannot appear in a file stream");
    }
    if (flags & RamFlag.Eos) return;
  }
}

function countPage(ram: RamContext, block: RamBlockReport): void {
  block.pages = (block.pages ?? 0) + 1;
  ram.report.pages++;
}

/** MEM_SIZE: the ramblocks, each an idstr and used_length, plus region address and mapped-ram header when those are on. */
function readBlockList(cursor: Cursor, ram: RamContext, total: bigint, recordOffset: number): void {
  let left = total;
  while (left > 0n) {
    if (ram.report.blocks.length >= ram.maxBlocks) throw limitError(cursor.offset, "RAM blocks", ram.maxBlocks);
    const blockOffset = cursor.offset;
    const name = cursor.str8("ram block name");
    const length = cursor.be64("ram block length");
    if (length === 0n || length > left) {
      throw streamError(blockOffset, `bad length: ram block ${name} is 0x${length.toString(16)} bytes, announced total has 0x${left.toString(16)} left`, {
        block: name,
      });
    }
    if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw streamError(blockOffset, `bad length: ram block ${name} is 0x${length.toString(16)} bytes`);
    left -= length;
    const block: RamBlockReport = { name, sizeBytes: Number(length) };
    if (ram.report.ignoreShared) block.regionAddress = `0x${cursor.be64("ram block region address").toString(16)}`;
    if (ram.report.mappedRam) readMappedRamHeader(cursor, ram, block);
    ram.report.blocks.push(block);
    ram.byName.set(name, block);
  }
  if (ram.report.blocks.length === 0) throw streamError(recordOffset, "MEM_SIZE record announces no ram blocks");
}

/**
 * mapped-ram: a header locating the block's page bitmap and its pages in the file, then the stream
 * resumes after the pages (ram.c mapped_ram_setup_ramblock). A shared block under x-ignore-shared
 * has both offsets zero and nothing in the file.
 */
function readMappedRamHeader(cursor: Cursor, ram: RamContext, block: RamBlockReport): void {
  const headerOffset = cursor.offset;
  const version = cursor.be32("mapped-ram header version");
  if (version !== MAPPED_RAM_HEADER_VERSION) throw streamError(headerOffset, `unsupported mapped-ram header version ${version}`);
  const pageSize = cursor.be64Number("mapped-ram page size");
  if (pageSize !== ram.report.pageSize) {
    throw streamError(headerOffset + 4, `mapped-ram page size ${pageSize} differs from the stream's ${ram.report.pageSize}`);
  }
  const bitmapOffset = cursor.be64Number("mapped-ram bitmap offset");
  const pagesOffset = cursor.be64Number("mapped-ram pages offset");
  if (bitmapOffset === 0 && pagesOffset === 0 && ram.report.ignoreShared) {
    block.shared = true;
    return;
  }
  const pageCount = Math.ceil(block.sizeBytes / pageSize);
  const bitmapBytes = Math.ceil(pageCount / 64) * 8; // QEMU writes whole host longs
  if (bitmapOffset < cursor.offset || pagesOffset < bitmapOffset + bitmapBytes) {
    throw streamError(
      headerOffset,
      `bad mapped-ram offsets for ${block.name}: bitmap at ${bitmapOffset}, pages at ${pagesOffset}, header ends at ${cursor.offset}`,
    );
  }
  cursor.seek(bitmapOffset, `mapped-ram bitmap of ${block.name}`);
  const bitmap = cursor.bytes(bitmapBytes, `mapped-ram bitmap of ${block.name}`);
  let pagesInFile = 0;
  for (const byte of bitmap) pagesInFile += popcount8(byte);
  cursor.seek(pagesOffset, `mapped-ram pages of ${block.name}`);
  cursor.skip(block.sizeBytes, `mapped-ram pages of ${block.name}`);
  block.mappedRam = { bitmapOffset, pagesOffset, pagesInFile };
  ram.report.pages += pagesInFile;
}

function pageBlock(cursor: Cursor, ram: RamContext, flags: number, recordOffset: number): RamBlockReport {
  if (flags & RamFlag.Continue) {
    if (ram.current === undefined) throw streamError(recordOffset, "RAM page record continues a block, but no block was named before");
    return ram.current;
  }
  const name = cursor.str8("ram block name");
  const block = ram.byName.get(name);
  if (block === undefined) throw streamError(recordOffset, `RAM page record for block ${JSON.stringify(name)}, which MEM_SIZE did not announce`);
  ram.current = block;
  return block;
}

function popcount8(byte: number): number {
  let n = byte;
  n = n - ((n >> 1) & 0x55);
  n = (n & 0x33) + ((n >> 2) & 0x33);
  return (n + (n >> 4)) & 0x0f;
}
