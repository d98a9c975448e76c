import { existsSync } from "node:fs";
import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { parseUserCloudConfig } from "../../cloudinit/index.ts";
import {
  parsePortForward, parseSize, readConfigFile, resolveConfig, serializeConfig, formatSize,
  type ConfigFile, type InstanceConfig,
} from "../../config/index.ts";
import { generateSshKey, sshKeyComment } from "../../driver/ssh/keygen.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { requireTinyImage } from "../../image/index.ts";
import { instancesDir, type InstanceName } from "../../paths/index.ts";
import { CommandFailedError, runCommand } from "../../util/run-command.ts";
import { newLayerId } from "../disk/layers.ts";
import { claimNewInstance } from "./new-instance.ts";

export interface CreateOptions {
  /** A whole config to start from (`--from-file`); flags override its fields. */
  fromFile?: string;
  cpus?: number;
  memory?: string;
  disk?: string;
  image?: string;
  ports?: string[];
  home?: string;
}

export interface CreateResult {
  name: string;
  dir: string;
  config: InstanceConfig;
}

/** Applies command-line flags over a config file's fields; flags are validated like the file. */
function applyFlags(base: ConfigFile, options: CreateOptions): ConfigFile {
  const file: ConfigFile = { ...base };
  if (options.cpus !== undefined) file.cpus = options.cpus;
  if (options.memory !== undefined) file.memory = { ...file.memory, size: formatSize(parseSize(options.memory)) };
  if (options.disk !== undefined) file.disk = { ...file.disk, size: formatSize(parseSize(options.disk)) };
  if (options.image !== undefined) file.image = options.image;
  if (options.ports !== undefined && options.ports.length > 0) file.ports = options.ports.map(parsePortForward);
  return file;
}

/**
 * Creates an instance: its directory, snapvm.yaml and qcow2 disk. Built in a hidden temp directory
 * and renamed into place, so bad input or a failed step leaves nothing behind.
 */
export async function createInstance(name: InstanceName, options: CreateOptions): Promise<CreateResult> {
  const paths = claimNewInstance(name, options.home);
  const base = options.fromFile === undefined ? {} : await readConfigFile(options.fromFile);
  const file = applyFlags(base, options);
  // A relative image path means relative to where it was written: the --from-file or the working directory.
  if (file.image !== undefined && file.image !== "tiny" && !file.image.startsWith("/")) {
    file.image = join(options.fromFile === undefined || options.image !== undefined ? process.cwd() : dirname(options.fromFile), file.image);
  }
  const config = resolveConfig(file, { sourceName: options.fromFile ?? "command line" });
  if (config.image.kind === "tiny") requireTinyImage(options.home);
  else if (!existsSync(config.image.path)) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `image ${config.image.path} does not exist`, { hint: "Give the path of a qcow2 cloud image." });
  }
  // Refused now rather than at the first boot: the user-data is merged into snapvm's own then.
  if (config.cloudInit.userData !== undefined) parseUserCloudConfig(config.cloudInit.userData);
  if (config.image.kind === "qcow2") await checkDiskHoldsImage(config.image.path, config.disk.sizeBytes);

  await mkdir(instancesDir(options.home), { recursive: true });
  const temp = join(instancesDir(options.home), `.${name}.tmp-${process.pid}`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { mode: 0o700 });
  try {
    await writeFile(join(temp, "snapvm.yaml"), serializeConfig(file));
    // The first disk layer, linked as disk.qcow2 (see disk-layers.ts).
    const layer = `${newLayerId()}.qcow2`;
    await mkdir(join(temp, "disks"));
    await createDisk(join(temp, "disks", layer), config);
    await symlink(join("disks", layer), join(temp, "disk.qcow2"));
    // A cloud image is reached over SSH with this key; cloud-init installs it at each cold boot.
    if (config.image.kind === "qcow2") await generateSshKey(join(temp, relative(paths.dir, paths.sshKey)), sshKeyComment(name));
    await rename(temp, paths.dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return { name, dir: paths.dir, config };
}

/**
 * An overlay smaller than its backing image cuts the image's partitions off (qemu-img allows it
 * silently), so the disk must be at least as large as the image.
 */
async function checkDiskHoldsImage(image: string, diskBytes: number): Promise<void> {
  let virtualBytes: number | undefined;
  try {
    const info: unknown = JSON.parse((await runCommand("qemu-img", ["info", "--output=json", image])).stdout);
    const size = typeof info === "object" && info !== null ? (info as Record<string, unknown>)["virtual-size"] : undefined;
    virtualBytes = typeof size === "number" ? size : undefined;
  } catch (error) {
    if (!(error instanceof CommandFailedError) && !(error instanceof SyntaxError)) throw error;
    throw new SnapvmError(ErrorCode.InvalidArgument, `cannot read the image ${image}: ${error.message}`, { hint: "Give the path of a qcow2 cloud image.", cause: error });
  }
  if (virtualBytes !== undefined && virtualBytes > diskBytes) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `image ${image} is ${formatSize(virtualBytes)}, larger than disk.size ${formatSize(diskBytes)}`, {
      hint: `Give a disk at least as large as the image, e.g. \`--disk ${formatSize(Math.ceil(virtualBytes / 2 ** 30) * 2 ** 30)}\`.`,
    });
  }
}

async function createDisk(path: string, config: InstanceConfig): Promise<void> {
  const backing = config.image.kind === "qcow2" ? ["-b", config.image.path, "-F", "qcow2"] : [];
  try {
    await runCommand("qemu-img", ["create", "-q", "-f", "qcow2", ...backing, path, String(config.disk.sizeBytes)]);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, `creating the disk failed: ${error.message}`, {
      hint: "Check that qemu-img is installed (scripts/setup-host.sh) and the image is a valid qcow2 file.",
      cause: error,
    });
  }
}
