export { buildTinyImage, type BuildTinyImageOptions } from "./build.ts";
export { readTinyImage, requireTinyImage } from "./read.ts";
export { GUEST_PROTOCOL_VERSION } from "./guest-protocol.ts";
export { IMAGE_FORMAT_VERSION, type ImageFileInfo, type TinyImageInfo } from "./manifest.ts";
export { TINY_MODULES } from "./modules.ts";
