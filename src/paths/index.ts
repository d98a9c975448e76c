export { snapvmHome, instancesDir, imagesDir, transfersDir, downloadCachePaths, exportRecordPath, type DownloadCachePaths } from "./home.ts";
export {
  instancePaths,
  instanceDirPaths,
  newInstanceTempDir,
  instanceDeleteDir,
  instanceSockets,
  snapshotPaths,
  stateDirPaths,
  diskLayerPath,
  diskLinkTempPath,
  failedStatePaths,
  asideStatePaths,
  newFailedStateId,
  postcopyRamFile,
  UNIX_SOCKET_PATH_MAX,
  MANIFEST_NAME,
  STATE_FILE_NAMES,
  LIVE_MEMORY_REF,
  suspendTempDir,
  COMPRESS_LOCK_NAME,
  compressedName,
  partialName,
  isPartialName,
  snapshotTempDir,
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
export { webAssetsDir, WEB_ASSETS, benchResultsDir } from "./web-assets.ts";
export { scratchDirPrefix, captureSockets, forkServeSockets, CAPTURE_QMP_NAME, SCRATCH_NAMES, type ScratchKind } from "./scratch.ts";
export { parseRemoteSnapshot, isRemoteSnapshotUrl, type RemoteSnapshot } from "./remote-snapshot.ts";
