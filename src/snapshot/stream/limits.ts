/**
 * Bounds on what one decode may cost. Device-state files are a few hundred KiB; these leave ample room
 * for large VMs while making hostile input fail fast instead of hanging or exhausting memory.
 */
export interface StreamLimits {
  /** Bytes the decoder may look at: the buffer's length, or for a file the bytes actually read. */
  maxBytes: number;
  /** Section records (START/PART/END/FULL/COMMAND) in one stream. */
  maxSections: number;
  /** RAM blocks announced by one MEM_SIZE record. */
  maxRamBlocks: number;
  /** The vmdesc JSON document. */
  maxVmdescBytes: number;
  /** Nesting of the vmdesc JSON text (objects and arrays). */
  maxJsonDepth: number;
  /** Nesting of VMState structs and subsections while decoding fields. */
  maxStructDepth: number;
  /** Field values decoded in the whole stream. */
  maxValues: number;
  /** Length of any name in the vmdesc (field, vmsd, device). */
  maxNameLength: number;
}

export const DEFAULT_LIMITS: StreamLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxSections: 10_000,
  maxRamBlocks: 1024,
  maxVmdescBytes: 16 * 1024 * 1024,
  maxJsonDepth: 256,
  maxStructDepth: 32,
  maxValues: 1_000_000,
  maxNameLength: 1024,
};
