import { ErrorCode, SnapvmError } from "../errors/index.ts";

/** Compressions an x86 bzImage payload may use that we can undo with host tools. */
export type PayloadCompression = "xz" | "zstd" | "gzip";

export interface BzImagePayload {
  compression: PayloadCompression;
  /** Exactly the bytes to hand to the decompressor (see `decompressorInput`). */
  data: Buffer;
  /** Length of the uncompressed vmlinux, from the payload's last 4 bytes (mkpiggy's `z_output_len`). */
  uncompressedSize: number;
}

const MAGICS: readonly (readonly [PayloadCompression, Buffer])[] = [
  ["xz", Buffer.from("fd377a585a00", "hex")],
  ["zstd", Buffer.from("28b52ffd", "hex")],
  ["gzip", Buffer.from("1f8b", "hex")],
];

const ELF_MAGIC = Buffer.from("7f454c46", "hex");

// Offsets in the boot protocol's setup header (Documentation/arch/x86/boot.rst).
const SETUP_SECTS = 0x1f1;
const HEADER_MAGIC = 0x202; // "HdrS"
const PROTOCOL_VERSION = 0x206;
const PAYLOAD_OFFSET = 0x248;
const PAYLOAD_LENGTH = 0x24c;
const MIN_PROTOCOL = 0x0208; // payload_offset/payload_length appeared in 2.08

function fail(message: string): never {
  throw new SnapvmError(ErrorCode.ImageBuildFailed, `bzImage: ${message}`, {
    hint: "The kernel package's boot/vmlinuz-* is not an x86 bzImage this builder understands.",
  });
}

export function detectCompression(bytes: Buffer): PayloadCompression | undefined {
  for (const [name, magic] of MAGICS) {
    if (bytes.length >= magic.length && bytes.subarray(0, magic.length).equals(magic)) return name;
  }
  return undefined;
}

/**
 * Finds the compressed vmlinux inside a bzImage. Pure: reads only `image`.
 * The protected-mode code starts after the setup sectors ((setup_sects || 4) + 1 sectors of 512 bytes);
 * payload_offset is relative to that start.
 */
export function parseBzImage(image: Buffer): BzImagePayload {
  if (image.length < PAYLOAD_LENGTH + 4) fail(`file too short (${image.length} bytes)`);
  if (image.toString("latin1", HEADER_MAGIC, HEADER_MAGIC + 4) !== "HdrS") fail("no HdrS boot header");
  const version = image.readUInt16LE(PROTOCOL_VERSION);
  if (version < MIN_PROTOCOL) fail(`boot protocol ${(version >> 8).toString()}.${(version & 0xff).toString()} is older than 2.08`);
  const setupSects = image[SETUP_SECTS] || 4;
  const codeStart = (setupSects + 1) * 512;
  const start = codeStart + image.readUInt32LE(PAYLOAD_OFFSET);
  const length = image.readUInt32LE(PAYLOAD_LENGTH);
  if (length < 8 || start + length > image.length) {
    fail(`payload ${start}+${length} lies outside the ${image.length}-byte file`);
  }
  const payload = image.subarray(start, start + length);
  const compression = detectCompression(payload);
  if (compression === undefined) fail(`unsupported payload compression (magic ${payload.subarray(0, 6).toString("hex")})`);
  return { compression, data: decompressorInput(compression, payload), uncompressedSize: payload.readUInt32LE(length - 4) };
}

/**
 * The kernel build appends the uncompressed size as 4 bytes after xz and zstd streams
 * (`*_with_size` in arch/x86/boot/compressed/Makefile); zstd rejects that trailer as a bad frame,
 * so it is cut. gzip's own trailer ends in ISIZE, so a gzip payload is used whole.
 */
export function decompressorInput(compression: PayloadCompression, payload: Buffer): Buffer {
  return compression === "gzip" ? payload : payload.subarray(0, payload.length - 4);
}

/** Checks that decompression produced the ELF the kernel header promised. */
export function verifyVmlinux(vmlinux: Buffer, expectedSize: number): void {
  if (!vmlinux.subarray(0, 4).equals(ELF_MAGIC)) fail("the decompressed payload is not an ELF file");
  if (vmlinux.length !== expectedSize) fail(`the decompressed payload has ${vmlinux.length} bytes, the header says ${expectedSize}`);
}
