import { isAbsolute, resolve as resolvePath } from "node:path";
import { withDefaults } from "./defaults.ts";
import { configError, formatPath } from "./problems.ts";
import { checkSize, formatSize } from "./sizes.ts";
import { BUILTIN_IMAGE, type BootConfigFile, type CompleteConfigFile, type ConfigFile, type ImageSource, type InstanceConfig } from "./types.ts";
import { validateConfigValue } from "./validate.ts";

export interface ResolveOptions {
  /** Directory a relative image path is relative to: the config file's directory. Without it a relative path is an error. */
  baseDir?: string;
  /** Names the config in error messages, e.g. the file path or "command line". */
  sourceName?: string;
}

/**
 * ConfigFile → InstanceConfig: validates (a ConfigFile built in code may break bounds its type cannot
 * express), fills defaults (defaults.ts, the only place), converts units. Throws SnapvmError(InvalidConfig)
 * listing every problem by path. Pure apart from that: no file system access.
 */
export function resolveConfig(file: ConfigFile, options: ResolveOptions = {}): InstanceConfig {
  const sourceName = options.sourceName ?? "config";
  const result = validateConfigValue(file);
  if (!result.ok) {
    throw configError(
      sourceName,
      result.issues.map((issue) => ({ file: sourceName, path: formatPath(issue.path), message: issue.message })),
    );
  }
  const c = withDefaults(result.file);
  const image = resolveImage(c.image, options.baseDir);
  if (image === undefined) {
    throw configError(sourceName, [{ file: sourceName, path: "image", message: `${JSON.stringify(c.image)} is a relative path here; give an absolute path` }]);
  }
  const boot = c.boot === undefined ? undefined : resolveBoot(c.boot, options.baseDir);
  if (boot instanceof Array) {
    throw configError(
      sourceName,
      boot.map((field) => ({
        file: sourceName,
        path: `boot.${field}`,
        message: `${JSON.stringify(c.boot?.[field])} is a relative path here; give an absolute path`,
      })),
    );
  }
  return {
    cpus: c.cpus,
    memory: { sizeBytes: sizeBytes(c.memory.size), backing: c.memory.backing },
    disk: { sizeBytes: sizeBytes(c.disk.size) },
    image,
    ...(boot === undefined ? {} : { boot }),
    accel: c.accel,
    saveOnStop: c.saveOnStop,
    ports: c.ports.map((port) => ({ ...port })),
    snapshot: { ...c.snapshot },
    timeouts: { bootMs: toMs(c.timeouts.boot), shutdownMs: toMs(c.timeouts.shutdown), restoreMs: toMs(c.timeouts.restore) },
    ssh: { ...c.ssh },
    cloudInit: { ...c.cloudInit },
  };
}

/**
 * InstanceConfig → the persisted shape with every field written: sizes in the largest exact unit
 * ("512M"), timeouts in seconds, the image as "tiny" or its absolute path.
 * resolveConfig(toConfigFile(c)) deep-equals c (the round-trip test).
 */
export function toConfigFile(config: InstanceConfig): CompleteConfigFile {
  return {
    cpus: config.cpus,
    memory: { size: formatSize(config.memory.sizeBytes), backing: config.memory.backing },
    disk: { size: formatSize(config.disk.sizeBytes) },
    image: config.image.kind === "tiny" ? BUILTIN_IMAGE : config.image.path,
    ...(config.boot === undefined ? {} : { boot: { ...config.boot } }),
    accel: config.accel,
    saveOnStop: config.saveOnStop,
    ports: config.ports.map((port) => ({ ...port })),
    snapshot: { ...config.snapshot },
    timeouts: { boot: config.timeouts.bootMs / 1000, shutdown: config.timeouts.shutdownMs / 1000, restore: config.timeouts.restoreMs / 1000 },
    ssh: { ...config.ssh },
    cloudInit: config.cloudInit.userData === undefined ? {} : { userData: config.cloudInit.userData },
  };
}

function resolveImage(image: string, baseDir: string | undefined): ImageSource | undefined {
  if (image === BUILTIN_IMAGE) return { kind: "tiny" };
  if (isAbsolute(image)) return { kind: "qcow2", path: resolvePath(image) };
  return baseDir === undefined ? undefined : { kind: "qcow2", path: resolvePath(baseDir, image) };
}

/** The boot files as absolute paths, or the fields that are relative with no directory to resolve them in. */
function resolveBoot(boot: BootConfigFile, baseDir: string | undefined): BootConfigFile | ("kernel" | "initrd")[] {
  const relative = (["kernel", "initrd"] as const).filter((field) => !isAbsolute(boot[field]) && baseDir === undefined);
  if (relative.length > 0) return relative;
  const absolute = (path: string): string => (baseDir === undefined ? resolvePath(path) : resolvePath(baseDir, path));
  return { kernel: absolute(boot.kernel), initrd: absolute(boot.initrd), cmdline: boot.cmdline };
}

function sizeBytes(text: string): number {
  const parsed = checkSize(text);
  if (!parsed.ok) throw new Error(`resolveConfig: size ${JSON.stringify(text)} passed validation but does not parse`);
  return parsed.bytes;
}

/** Whole milliseconds, at least 1, so a tiny positive timeout never becomes "no timeout". */
function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}
