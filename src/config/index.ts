export type {
  Accel,
  CloudInitConfigFile,
  CompleteConfigFile,
  Compression,
  ConfigFile,
  DiskConfigFile,
  ImageSource,
  InstanceConfig,
  MemoryBacking,
  MemoryConfigFile,
  PortForward,
  PortForwardFile,
  Protocol,
  SnapshotConfigFile,
  SshConfigFile,
  TimeoutsConfigFile,
} from "./types.ts";
export { ACCELS, BUILTIN_IMAGE, COMPRESSIONS, MEMORY_BACKINGS, PROTOCOLS } from "./types.ts";
export { defaultConfigFile, withDefaults, PORT_DEFAULTS } from "./defaults.ts";
export { resolveConfig, toConfigFile, type ResolveOptions } from "./resolve.ts";
export { parseConfigText, readConfigFile, loadConfigFile, CONFIG_FILE_MAX_BYTES } from "./load.ts";
export { serializeConfig } from "./serialize.ts";
export { diffConfigs } from "./diff.ts";
export { configError, formatProblem, type ConfigProblem } from "./problems.ts";
export { parseInstanceName, isValidInstanceName, INSTANCE_NAME_MAX, type InstanceName } from "./names.ts";
export { parseSize, formatSize, checkSize, type SizeParse, KiB, MiB, GiB, TiB } from "./sizes.ts";
export { parsePortForward, PORT_MIN, PORT_MAX } from "./ports.ts";
export { configFileSchema, CPUS_MAX, DISK_MAX_BYTES, DISK_MIN_BYTES, MEMORY_MAX_BYTES, MEMORY_MIN_BYTES, TIMEOUT_MAX_SECONDS } from "./schema.ts";
export { configJsonSchema, renderConfigJsonSchema } from "./json-schema.ts";
