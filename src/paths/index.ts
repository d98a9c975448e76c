export { snapvmHome, instancesDir, imagesDir, transfersDir } from "./home.ts";
export {
  instancePaths,
  instanceDirPaths,
  newInstanceTempDir,
  instanceSockets,
  snapshotPaths,
  stateDirPaths,
  diskLayerPath,
  failedStatePaths,
  asideStatePaths,
  newFailedStateId,
  postcopyRamFile,
  UNIX_SOCKET_PATH_MAX,
  MANIFEST_NAME,
  type InstancePaths,
  type SnapshotPaths,
  type FailedStatePaths,
  type AsideStatePaths,
} from "./instance-paths.ts";
export { parseMigrationDest, formatMigrationDest, type MigrationDest } from "./migration-dest.ts";
export { tinyImagePaths, TINY_IMAGE, type TinyImagePaths } from "./image-paths.ts";
export {
  parseInstanceName,
  parseSnapshotTag,
  parseFailedStateId,
  tryFailedStateId,
  tryInstanceName,
  trySnapshotTag,
  isValidInstanceName,
  INSTANCE_NAME_MAX,
  SNAPSHOT_TAG_MAX,
  type InstanceName,
  type SnapshotTag,
  type FailedStateId,
} from "./names.ts";
