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

function toCandidate(fields: ReadonlyMap<string, string>, output: string): DebCandidate {
  const name = fields.get("Package");
  const version = fields.get("Version");
  const architecture = fields.get("Architecture");
  const sha256 = fields.get("SHA256");
  if (name === undefined || version === undefined || architecture === undefined || sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new SnapvmError(ErrorCode.ImageBuildFailed, "apt-cache show printed a record without Package/Version/Architecture/SHA256", {
      details: { output: output.slice(0, 2000) },
    });
  }
  return { name, version, architecture, sha256 };
}

/** The records of `apt-cache show --no-all-versions` output (RFC 822 style stanzas, blank-line separated). */
export function parseAptRecords(showOutput: string): DebCandidate[] {
  const records: DebCandidate[] = [];
  let fields = new Map<string, string>();
  for (const line of [...showOutput.split("\n"), ""]) {
    if (line.trim() === "") {
      if (fields.size > 0) records.push(toCandidate(fields, showOutput));
      fields = new Map();
      continue;
    }
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) fields.set(match[1], match[2].trim());
  }
  return records;
}

/**
 * The candidate versions of `names` in apt's current package lists, in the order asked (one
 * apt-cache call: each costs about a second here). Needs `apt-get update` once, no network.
 */
export async function resolveCandidates(names: readonly string[]): Promise<DebCandidate[]> {
  const { stdout } = await runCommand("apt-cache", ["show", "--no-all-versions", ...names]);
  const records = parseAptRecords(stdout);
  return names.map((name) => {
    const record = records.find((candidate) => candidate.name === name);
    if (record === undefined) {
      throw new SnapvmError(ErrorCode.ImageBuildFailed, `apt-cache show printed no record for ${name}`, {
        hint: "Run `apt-get update` so apt knows the package.",
      });
    }
    return record;
  });
}

/** The concrete kernel package name behind the metapackage (apt-cache depends). */
export async function resolveKernelPackageName(metapackage = KERNEL_METAPACKAGE): Promise<string> {
  const { stdout } = await runCommand("apt-cache", ["depends", metapackage]);
  return parseKernelDependency(stdout, metapackage);
}
