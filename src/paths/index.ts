export { snapvmHome, instancesDir, imagesDir } from "./home.ts";
export {
  instancePaths,
  instanceDirPaths,
  newInstanceTempDir,
  instanceSockets,
  snapshotPaths,
  stateDirPaths,
  diskLayerPath,
  UNIX_SOCKET_PATH_MAX,
  MANIFEST_NAME,
  type InstancePaths,
  type SnapshotPaths,
} from "./instance-paths.ts";
export { tinyImagePaths, TINY_IMAGE, type TinyImagePaths } from "./image-paths.ts";
export {
  parseInstanceName,
  parseSnapshotTag,
  tryInstanceName,
  trySnapshotTag,
  isValidInstanceName,
  INSTANCE_NAME_MAX,
  SNAPSHOT_TAG_MAX,
  type InstanceName,
  type SnapshotTag,
} from "./names.ts";
