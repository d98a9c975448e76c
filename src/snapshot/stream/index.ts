/**
 * Decoder for QEMU's migration stream ("savevm" format, file version 3): turns a device-state file
 * written by `migrate file:` into a JSON report a person can read without QEMU.
 */
export { inspectStream, inspectStreamFile, type InspectOptions } from "./inspect.ts";
export { DEFAULT_LIMITS, type StreamLimits } from "./limits.ts";
export type {
  BufferValue,
  CommandReport,
  ConfigurationReport,
  JsonValue,
  MappedRamBlock,
  RamBlockReport,
  RamReport,
  SectionKind,
  SectionReport,
  StreamReport,
  VmdescReport,
} from "./report.ts";
