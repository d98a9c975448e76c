import { streamError } from "./errors.ts";
import { QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION } from "./format.ts";
import type { Cursor } from "./reader.ts";

export interface FileHeader {
  magic: string;
  version: number;
}

/** Recognisable non-streams, so the error says what the file is instead of only what it is not. */
const KNOWN_MAGIC: readonly [Buffer, string][] = [
  [Buffer.from([0x1f, 0x8b]), "a gzip file (decompress it first)"],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), "a zstd file (decompress it first)"],
  [Buffer.from("QFI\xfb", "latin1"), "a qcow2 image, not a migration stream"],
  [Buffer.from("{"), "JSON, not a migration stream"],
];

/** The 8-byte file header: magic "QEVM", then the stream version; only version 3 is written since QEMU 0.13. */
export function readFileHeader(cursor: Cursor): FileHeader {
  const head = cursor.source.read(0, 8);
  const magic = cursor.be32("file magic");
  if (magic !== QEMU_VM_FILE_MAGIC) {
    const known = KNOWN_MAGIC.find(([bytes]) => head.subarray(0, bytes.length).equals(bytes));
    throw streamError(
      0,
      `bad magic 0x${magic.toString(16).padStart(8, "0")}${known === undefined ? "" : `: this looks like ${known[1]}`}; expected 0x5145564d ("QEVM")`,
      {
        magic,
      },
    );
  }
  const version = cursor.be32("file version");
  if (version !== QEMU_VM_FILE_VERSION) {
    throw streamError(4, `unsupported stream version ${version}; this decoder reads version ${QEMU_VM_FILE_VERSION}`, { version });
  }
  return { magic: "QEVM", version };
}
