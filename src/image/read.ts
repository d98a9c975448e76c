import { readFileSync, statSync } from "node:fs";
import { ErrorCode, SnapvmError, isErrno } from "../errors/index.ts";
import { tinyImagePaths } from "../paths/index.ts";
import { manifestToInfo, parseManifest, type TinyImageInfo } from "./manifest.ts";

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

/**
 * The built tiny image, or undefined when image.json or one of its files is absent.
 * Throws SnapvmError(ImageMissing) when image.json is unreadable as format 1 or a file's size
 * disagrees with it. Cheap (no hashing): callers run it before every boot.
 */
export function readTinyImage(home?: string): TinyImageInfo | undefined {
  const paths = tinyImagePaths(home);
  let text: string;
  try {
    text = readFileSync(paths.manifest, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  const info = manifestToInfo(parseManifest(text, paths.manifest), paths);
  for (const file of [info.vmlinux, info.initrd]) {
    const size = fileSize(file.path);
    if (size === undefined) return undefined;
    if (size !== file.size) {
      throw new SnapvmError(ErrorCode.ImageMissing, `${file.path} has ${size} bytes, ${paths.manifest} says ${file.size}`, {
        hint: "Run `snapvm image build --force` to rebuild the image.",
        details: { path: file.path },
      });
    }
  }
  return info;
}

/** Like readTinyImage, but an absent image is a user error telling how to build it. */
export function requireTinyImage(home?: string): TinyImageInfo {
  const info = readTinyImage(home);
  if (info !== undefined) return info;
  throw new SnapvmError(ErrorCode.ImageMissing, `the tiny guest image is not built (${tinyImagePaths(home).dir})`, {
    hint: "Run `snapvm image build` first.",
  });
}
