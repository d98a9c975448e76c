/** The shape `snapvm snapshot inspect` prints for a device-state file: plain JSON, nothing live. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A buffer field: its full length, and hex of at most the first 64 bytes (or `zero` when all zero). */
export interface BufferValue {
  [key: string]: JsonValue;
  bytes: number;
}

export interface ConfigurationReport {
  offset: number;
  length: number;
  /** The machine type the state was saved with, e.g. "pc-q35-10.0"; restore needs the same. */
  machineType: string;
  /** Migration capabilities QEMU requires both ends to agree on (x-ignore-shared, mapped-ram). */
  capabilities: string[];
  targetPageBits?: number;
  uuid?: string;
  /** Other configuration subsections, decoded from the vmdesc. */
  other?: Record<string, JsonValue>;
}

export type SectionKind = "start" | "part" | "end" | "full";

export interface SectionReport {
  id: number;
  idstr: string;
  instanceId: number;
  versionId: number;
  kind: SectionKind;
  /** Offset of the section's type byte. */
  offset: number;
  /** Bytes from the type byte through the footer; absent when the end could not be found. */
  length?: number;
  vmsdName?: string;
  /** How the body was read: fields from the vmdesc, RAM records, or only delimited by its footer. */
  decoded: "fields" | "ram" | "delimited" | "no";
  fields?: Record<string, JsonValue>;
}

export interface CommandReport {
  offset: number;
  command: number;
  length: number;
}

export interface MappedRamBlock {
  bitmapOffset: number;
  pagesOffset: number;
  /** Pages present in the file (bits set in the block's bitmap). */
  pagesInFile: number;
}

export interface RamBlockReport {
  name: string;
  sizeBytes: number;
  /** The block's region address, sent when x-ignore-shared is on. */
  regionAddress?: string;
  /** Page records carried in the stream for this block (not mapped-ram). */
  pages?: number;
  zeroPages?: number;
  mappedRam?: MappedRamBlock;
  /** mapped-ram with x-ignore-shared: the block lives in shared memory and has no pages here. */
  shared?: boolean;
}

export interface RamReport {
  pageSize: number;
  mappedRam: boolean;
  ignoreShared: boolean;
  blocks: RamBlockReport[];
  /** Pages with contents: page records in the stream, or bitmap bits with mapped-ram. */
  pages: number;
  /** Zero-page records (not mapped-ram, where zero pages are simply absent). */
  zeroPages: number;
}

export interface VmdescReport {
  present: boolean;
  offset?: number;
  sizeBytes: number;
  devices: number;
  pageSize?: number;
}

export interface StreamReport {
  /** "QEVM" for every stream this decoder accepts. */
  magic: string;
  version: number;
  fileBytes: number;
  configuration: ConfigurationReport | null;
  sections: SectionReport[];
  commands?: CommandReport[];
  ram?: RamReport;
  vmdesc: VmdescReport;
  /** Offset of the QEMU_VM_EOF byte; null when the walk stopped before reaching it. */
  eofOffset: number | null;
  /** Bytes after the stream (after the vmdesc, or after EOF when there is none). */
  trailingBytes: number;
  /** What could not be decoded, and why. */
  notes: string[];
}
