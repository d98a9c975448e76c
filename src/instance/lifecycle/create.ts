import { existsSync } from "node:fs";
import { symlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { parseUserCloudConfig } from "../../cloudinit/index.ts";
import {
  parsePortForward,
  parseSize,
  readConfigFile,
  resolveConfig,
  serializeConfig,
  formatSize,
  type ConfigFile,
  type InstanceConfig,
} from "../../config/index.ts";
import { generateSshKey, sshKeyComment } from "../../driver/ssh/keygen.ts";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { requireTinyImage } from "../../image/index.ts";
import { diskLayerPath, type InstanceName } from "../../paths/index.ts";
import { writeFileAtomic } from "../../util/atomic-write.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../util/private-tree.ts";
import { newLayerId } from "../disk/layers.ts";
import { buildNewInstance, claimNewInstance } from "./new-instance.ts";
import { readPortClaims, refuseClaimedPorts } from "./port-claims.ts";

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
 * Creates an instance: its directory, snapvm.yaml and qcow2 disk. Built by buildNewInstance (a hidden
 * temp directory, fsynced, renamed into place), so bad input or a failed step leaves nothing behind.
 */
export async function createInstance(name: InstanceName, options: CreateOptions): Promise<CreateResult> {
  const paths = claimNewInstance(name, options.home);
  const base = options.fromFile === undefined ? {} : await readConfigFile(options.fromFile);
  const file = applyFlags(base, options);
  // A relative image path means relative to where it was written: the --from-file or the working directory.
  if (file.image !== undefined && file.image !== "tiny" && !file.image.startsWith("/")) {
    file.image = join(options.fromFile === undefined || options.image !== undefined ? process.cwd() : dirname(options.fromFile), file.image);
  }
  let config = resolveConfig(file, { sourceName: options.fromFile ?? "command line" });
  if (config.image.kind === "tiny") requireTinyImage(options.home);
  else if (!existsSync(config.image.path)) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `image ${config.image.path} does not exist`, { hint: "Give the path of a qcow2 cloud image." });
  }
  refuseClaimedPorts(
    `cannot create instance "${name}"`,
    config.ports,
    await readPortClaims(options.home, name),
    "Pick another host port with --port (`snapvm info NAME` shows an instance's ports), or change or delete the instance that forwards it.",
  );
  // Refused now rather than at the first boot: the user-data is merged into snapvm's own then.
  if (config.cloudInit.userData !== undefined) parseUserCloudConfig(config.cloudInit.userData);
  if (config.image.kind === "qcow2") {
    const imagePath = config.image.path;
    const imageBytes = await imageVirtualSize(imagePath);
    // No disk size given: the image's own size when that is more than the default (a 3G cloud image
    // on the default 2G disk would otherwise be refused until --disk is given).
    if (file.disk?.size === undefined && imageBytes > config.disk.sizeBytes) {
      file.disk = { ...file.disk, size: formatSize(Math.ceil(imageBytes / MIB) * MIB) };
      config = resolveConfig(file, { sourceName: options.fromFile ?? "command line" });
    }
    checkDiskHoldsImage(imagePath, imageBytes, config.disk.sizeBytes);
  }

  await buildNewInstance(name, options.home, async (temp) => {
    await writeFileAtomic(temp.config, serializeConfig(file), PRIVATE_FILE_MODE);
    // The first disk layer, linked as disk.qcow2 (see disk-layers.ts).
    const layer = diskLayerPath(temp, newLayerId());
    await ensurePrivateDir(temp.disksDir);
    await createDisk(layer, config);
    await symlink(relative(temp.dir, layer), temp.disk);
    // A cloud image is reached over SSH with this key; cloud-init installs it at each cold boot.
    if (config.image.kind === "qcow2") await generateSshKey(temp.sshKey, sshKeyComment(name));
  });
  return { name, dir: paths.dir, config };
}

const MIB = 1024 * 1024;

async function imageVirtualSize(image: string): Promise<number> {
  try {
    return (await driver.disks.facts(image)).virtualSize;
  } catch (error) {
    if (!isSnapvmError(error, ErrorCode.ExternalTool)) throw error;
    throw new SnapvmError(ErrorCode.InvalidArgument, `cannot read the image ${image}: ${error.message}`, {
      hint: "Give the path of a qcow2 cloud image.",
      cause: error,
    });
  }
}

/**
 * An overlay smaller than its backing image cuts the image's partitions off (qemu-img allows it
 * silently), so the disk must be at least as large as the image.
 */
function checkDiskHoldsImage(image: string, virtualBytes: number, diskBytes: number): void {
  if (virtualBytes > diskBytes) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `image ${image} is ${formatSize(virtualBytes)}, larger than disk.size ${formatSize(diskBytes)}`, {
      hint: `Give a disk at least as large as the image, e.g. \`--disk ${formatSize(Math.ceil(virtualBytes / 2 ** 30) * 2 ** 30)}\`, or leave --disk out to take the image's size.`,
    });
  }
}

async function createDisk(path: string, config: InstanceConfig): Promise<void> {
  try {
    await driver.disks.create(path, config.disk.sizeBytes, config.image.kind === "qcow2" ? config.image.path : undefined);
  } catch (error) {
    if (!isSnapvmError(error, ErrorCode.ExternalTool)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, error.message, {
      hint: "Check that qemu-img is installed (scripts/setup-host.sh) and the image is a valid qcow2 file.",
      cause: error,
    });
  }
}
