export { snapvmHome, instancesDir, imagesDir } from "./home.ts";
export { instancePaths, UNIX_SOCKET_PATH_MAX, type InstancePaths } from "./instance-paths.ts";
export { tinyImagePaths, TINY_IMAGE, type TinyImagePaths } from "./image-paths.ts";
