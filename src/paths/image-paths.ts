import { join } from "node:path";
import { imagesDir, snapvmHome } from "./home.ts";

/** The built-in guest image: a Debian kernel and a busybox initramfs. */
export interface TinyImagePaths {
  dir: string;
  kernel: string;
  initrd: string;
  manifest: string;
  /** Downloaded .deb files, kept so a rebuild needs no network. */
  cacheDir: string;
}

export const TINY_IMAGE = "tiny";

export function tinyImagePaths(home = snapvmHome()): TinyImagePaths {
  const dir = join(imagesDir(home), TINY_IMAGE);
  return {
    dir,
    kernel: join(dir, "vmlinux"),
    initrd: join(dir, "initrd.img"),
    manifest: join(dir, "image.json"),
    cacheDir: join(imagesDir(home), "cache"),
  };
}
