import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { runCommand } from "../util/run-command.ts";

/** Debian's generic amd64 kernel: it has CONFIG_VMGENID, so forks reseed their RNG (DESIGN.md §3a). */
export const KERNEL_METAPACKAGE = "linux-image-amd64";
export const BUSYBOX_PACKAGE = "busybox-static";

/** The version apt would install of a package, and what identifies its .deb. */
export interface DebCandidate {
  name: string;
  version: string;
  architecture: string;
  /** sha256 of the .deb from the repository index; a cached file must match it. */
  sha256: string;
}

/**
 * The concrete kernel package the metapackage depends on, from `apt-cache depends` output
 * (`  Depends: linux-image-6.1.0-56-amd64`). Alternatives (`|Depends:`) count; virtual `<...>` names do not.
 */
export function parseKernelDependency(dependsOutput: string, metapackage = KERNEL_METAPACKAGE): string {
  for (const line of dependsOutput.split("\n")) {
    const match = /^\s*\|?Depends:\s+(linux-image-\S+)\s*$/.exec(line);
    const name = match?.[1];
    if (name !== undefined && name !== metapackage) return name;
  }
  throw new SnapvmError(ErrorCode.ImageBuildFailed, `${metapackage} does not depend on a linux-image package`, {
    hint: "Run `apt-get update` so apt knows the current kernel package.",
    details: { output: dependsOutput.slice(0, 2000) },
  });
}

/** The first record of `apt-cache show --no-all-versions` output (RFC 822 style fields). */
export function parseAptRecord(showOutput: string): DebCandidate {
  const fields = new Map<string, string>();
  for (const line of showOutput.split("\n")) {
    if (line.trim() === "") {
      if (fields.size > 0) break;
      continue;
    }
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) fields.set(match[1], match[2].trim());
  }
  const name = fields.get("Package");
  const version = fields.get("Version");
  const architecture = fields.get("Architecture");
  const sha256 = fields.get("SHA256");
  if (name === undefined || version === undefined || architecture === undefined || sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new SnapvmError(ErrorCode.ImageBuildFailed, "apt-cache show printed no Package/Version/Architecture/SHA256 record", {
      details: { output: showOutput.slice(0, 2000) },
    });
  }
  return { name, version, architecture, sha256 };
}

/** The candidate version of `name` in apt's current package lists (needs `apt-get update` once, no network). */
export async function resolveCandidate(name: string): Promise<DebCandidate> {
  const { stdout } = await runCommand("apt-cache", ["show", "--no-all-versions", name]);
  return parseAptRecord(stdout);
}

export async function resolveKernelPackage(metapackage = KERNEL_METAPACKAGE): Promise<DebCandidate> {
  const { stdout } = await runCommand("apt-cache", ["depends", metapackage]);
  return resolveCandidate(parseKernelDependency(stdout, metapackage));
}
