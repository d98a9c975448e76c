import { z } from "zod";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import type { TinyImagePaths } from "../paths/index.ts";

/** Version of image.json's shape, independent of snapvm's version. Any other version is refused. */
export const IMAGE_FORMAT_VERSION = 1;
/** image.json is small; anything larger is not ours and is refused before parsing. */
export const MANIFEST_MAX_BYTES = 64 * 1024;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const fileRecord = z.object({ size: z.number().int().nonnegative(), sha256 });

/** The persisted shape of images/tiny/image.json. */
export const imageManifestSchema = z.object({
  formatVersion: z.literal(IMAGE_FORMAT_VERSION),
  kernel: z.object({ package: z.string().min(1), version: z.string().min(1), release: z.string().min(1) }),
  busybox: z.object({ package: z.string().min(1), version: z.string().min(1) }),
  files: z.object({ vmlinux: fileRecord, initrd: fileRecord }),
  initrdCompression: z.enum(["gzip", "zstd"]),
  guestProtocolVersion: z.number().int().positive(),
  builtAt: z.iso.datetime(),
  modules: z.array(z.string().min(1)),
});
export type ImageManifestFile = z.infer<typeof imageManifestSchema>;

export interface ImageFileInfo {
  path: string;
  size: number;
  sha256: string;
}

/** The in-memory view of a built tiny image: manifest facts plus where its files are. */
export interface TinyImageInfo {
  dir: string;
  manifestPath: string;
  vmlinux: ImageFileInfo;
  initrd: ImageFileInfo;
  initrdCompression: "gzip" | "zstd";
  kernel: { package: string; version: string; release: string };
  busybox: { package: string; version: string };
  guestProtocolVersion: number;
  builtAt: Date;
  /** Modules the guest insmods at boot, in order. */
  modules: string[];
}

export function manifestToInfo(file: ImageManifestFile, paths: TinyImagePaths): TinyImageInfo {
  return {
    dir: paths.dir,
    manifestPath: paths.manifest,
    vmlinux: { path: paths.kernel, ...file.files.vmlinux },
    initrd: { path: paths.initrd, ...file.files.initrd },
    initrdCompression: file.initrdCompression,
    kernel: { ...file.kernel },
    busybox: { ...file.busybox },
    guestProtocolVersion: file.guestProtocolVersion,
    builtAt: new Date(file.builtAt),
    modules: [...file.modules],
  };
}

export function infoToManifest(info: TinyImageInfo): ImageManifestFile {
  return {
    formatVersion: IMAGE_FORMAT_VERSION,
    kernel: { ...info.kernel },
    busybox: { ...info.busybox },
    files: {
      vmlinux: { size: info.vmlinux.size, sha256: info.vmlinux.sha256 },
      initrd: { size: info.initrd.size, sha256: info.initrd.sha256 },
    },
    initrdCompression: info.initrdCompression,
    guestProtocolVersion: info.guestProtocolVersion,
    builtAt: info.builtAt.toISOString(),
    modules: [...info.modules],
  };
}

function invalid(path: string, why: string, cause?: unknown): SnapvmError {
  return new SnapvmError(ErrorCode.ImageMissing, `${path} is not a valid tiny image manifest: ${why}`, {
    hint: "Run `snapvm image build --force` to rebuild the image.",
    cause,
    details: { path },
  });
}

/** Parses image.json text; throws SnapvmError(ImageMissing) naming `path` for anything not format 1. */
export function parseManifest(text: string, path: string): ImageManifestFile {
  if (Buffer.byteLength(text) > MANIFEST_MAX_BYTES) throw invalid(path, `larger than ${MANIFEST_MAX_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalid(path, "not JSON", cause);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === "number" && version !== IMAGE_FORMAT_VERSION) {
    throw invalid(path, `format version ${version}, this snapvm reads ${IMAGE_FORMAT_VERSION}`);
  }
  const result = imageManifestSchema.safeParse(json);
  if (!result.success) throw invalid(path, z.prettifyError(result.error).replaceAll("\n", "; "));
  return result.data;
}
