/**
 * Numbers of QEMU's migration stream format ("savevm", file version 3), as written by
 * migration/savevm.c and migration/ram.c of QEMU 10.0. Only what the decoder reads is listed.
 */

export const QEMU_VM_FILE_MAGIC = 0x5145564d; // "QEVM"
export const QEMU_VM_FILE_VERSION = 3;

/** The byte that starts each record of the stream. */
export const SectionType = {
  Eof: 0x00,
  Start: 0x01,
  Part: 0x02,
  End: 0x03,
  Full: 0x04,
  Subsection: 0x05,
  VmDescription: 0x06,
  Configuration: 0x07,
  Command: 0x08,
  Footer: 0x7e,
} as const;

/** Flags in the low bits of each be64 record header of the "ram" section (ram.c RAM_SAVE_FLAG_*). */
export const RamFlag = {
  Full: 0x01, // obsolete since QEMU 1.x; never written today
  Zero: 0x02,
  MemSize: 0x04,
  Page: 0x08,
  Eos: 0x10,
  Continue: 0x20,
  Xbzrle: 0x40,
  Hook: 0x80, // RDMA only; meaningless in a file
  CompressPage: 0x100, // multi-thread compression, removed in QEMU 9.1
  MultifdFlush: 0x200,
} as const;

/** The "ram" section's version this decoder knows (ram.c registers version 4). */
export const RAM_SECTION_VERSION = 4;

/** mapped-ram's per-ramblock header (ram.c MappedRamHeader, packed): be32 version, be64 page size, be64 bitmap offset, be64 pages offset. */
export const MAPPED_RAM_HEADER_VERSION = 1;
export const MAPPED_RAM_HEADER_BYTES = 4 + 8 + 8 + 8;

/** Capabilities QEMU writes into the configuration section because both ends must agree on them. */
export const CAP_IGNORE_SHARED = "x-ignore-shared";
export const CAP_MAPPED_RAM = "mapped-ram";

/** x86's target page: the fallback when neither the vmdesc nor the configuration says otherwise. */
export const DEFAULT_PAGE_SIZE = 4096;
