import { access, stat, statfs } from "node:fs/promises";
import { dirname, sep } from "node:path";
import type { LaunchSpec } from "../../config/launch-spec.ts";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import { tinyImagePaths } from "../../paths/index.ts";
import { describeForward, hostForwardsOf, probePort } from "./host-ports.ts";
import { portInUse, type StartPurpose } from "./port-refusal.ts";

/** What fs.statfs reports that matters here; tests inject a fake. */
export type StatfsFn = (path: string) => Promise<{ bavail: number; bsize: number }>;

/** Left free beyond the RAM file: the disk overlay, logs and the console grow while the guest runs. */
export const RUN_HEADROOM_BYTES = 64 * 1024 * 1024;

export interface HostCheck {
  spec: LaunchSpec;
  /** The RAM file is mapped share=on (every page the guest touches is written to it); false for a fork's private mapping. */
  shareMemory: boolean;
  purpose: StartPurpose;
  home?: string;
  statfsFn?: StatfsFn;
}

/**
 * Checks, before QEMU starts and before a restore consumes anything, that the host can supply what the
 * launch needs (docs/snapshot-format.md, "What a state does not contain"):
 *   1. every forwarded host port binds on its address (E_PORT_IN_USE naming the holder when /proc shows it);
 *   2. the files the argv names exist: kernel and initrd, disk, cloud-init ISO (E_IMAGE_MISSING for the
 *      built-in guest's, else E_LAUNCH_FILE_MISSING). The state's own files are checkRestorable's: a
 *      state missing them is at fault, not the host;
 *   3. a shared RAM file can grow to the guest's size (E_NO_SPACE): the guest dies of SIGBUS at the first
 *      page the filesystem cannot back.
 * Each refusal carries details.hostResource: the caller leaves the state where it is and boots nothing.
 * Costs ~1 ms (a bind per port, a stat per file, one statfs; ~5 ms for a process's first bind, measured);
 * /proc is read only for a taken port.
 */
export async function checkHostResources(check: HostCheck): Promise<void> {
  const { spec } = check;
  const forwards = hostForwardsOf(spec);
  const probes = await Promise.all(forwards.map(probePort));
  const busy = forwards.filter((_, i) => probes[i]?.free === false && probes[i].errno === "EADDRINUSE");
  if (busy.length > 0) throw await portInUse(spec.name, busy, check.purpose);
  const unbindable = forwards.flatMap((f, i) => {
    const probe = probes[i];
    return probe !== undefined && !probe.free ? [{ f, errno: probe.errno }] : [];
  });
  const [bad] = unbindable;
  if (bad !== undefined) {
    const why =
      bad.errno === "EACCES"
        ? "permission denied (ports below 1024 need privileges)"
        : bad.errno === "EADDRNOTAVAIL"
          ? "the address is not this host's"
          : bad.errno;
    throw new SnapvmError(ErrorCode.InvalidConfig, `instance "${spec.name}" cannot start: host port ${describeForward(bad.f)} cannot be bound here: ${why}`, {
      hint: "Forward another host port or address in snapvm.yaml; a saved state keeps the ports it was saved with until `snapvm restart`.",
      details: { instance: spec.name, hostResource: "port", port: bad.f.host, protocol: bad.f.protocol, hostAddress: bad.f.hostAddress, errno: bad.errno },
    });
  }
  await checkLaunchFiles(spec, check);
  await checkRamSpace(check);
}

async function checkLaunchFiles(spec: LaunchSpec, check: HostCheck): Promise<void> {
  const files = [
    ...(spec.boot.kind === "kernel"
      ? [
          { path: spec.boot.kernel, what: "kernel" },
          { path: spec.boot.initrd, what: "initrd" },
        ]
      : []),
    { path: spec.disk, what: "disk" },
    ...(spec.cidataIso === undefined ? [] : [{ path: spec.cidataIso, what: "cloud-init ISO" }]),
  ];
  const tiny = tinyImagePaths(check.home).dir + sep;
  const left = check.purpose === "restore" ? "its saved state was left as it was" : "nothing was started";
  for (const file of files) {
    // access() follows links: disk.qcow2 must lead to its top layer.
    const missing = await access(file.path).then(
      () => false,
      (error: unknown) => {
        if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return true;
        throw error;
      },
    );
    if (!missing) continue;
    if (file.path.startsWith(tiny)) {
      throw new SnapvmError(
        ErrorCode.ImageMissing,
        `instance "${spec.name}" cannot start: the built-in guest's ${file.what} ${file.path} is missing; ${left}`,
        {
          hint: "Build the image with `snapvm image build`, then start again.",
          details: { instance: spec.name, hostResource: "file", path: file.path },
        },
      );
    }
    throw new SnapvmError(ErrorCode.LaunchFileMissing, `instance "${spec.name}" cannot start: its ${file.what} ${file.path} is missing; ${left}`, {
      hint: "Put the file back where the launch names it (boot/launch.json), or `snapvm restart` to boot afresh from snapvm.yaml (a saved state is then dropped).",
      details: { instance: spec.name, hostResource: "file", path: file.path },
    });
  }
}

function mib(bytes: number): string {
  return `${Math.ceil(bytes / (1024 * 1024))} MiB`;
}

async function checkRamSpace(check: HostCheck): Promise<void> {
  const { spec } = check;
  if (spec.memoryBacking !== "file" || !check.shareMemory) return;
  const allocated = await stat(spec.memoryPath).then(
    (s) => s.blocks * 512,
    (error: unknown) => {
      if (isErrno(error, "ENOENT")) return 0;
      throw error;
    },
  );
  const dir = dirname(spec.memoryPath);
  const fs = await (check.statfsFn ?? statfs)(dir);
  const available = fs.bavail * fs.bsize;
  const needed = Math.max(0, spec.memoryBytes - allocated) + RUN_HEADROOM_BYTES;
  if (available >= needed) return;
  const left = check.purpose === "restore" ? "its saved state was left as it was" : "nothing was started";
  throw new SnapvmError(
    ErrorCode.NoSpace,
    `instance "${spec.name}" cannot start: its RAM file ${spec.memoryPath} may grow by ${mib(needed - RUN_HEADROOM_BYTES)} (to the guest's ${mib(spec.memoryBytes)}), and ${dir} has ${mib(available)} free of the ${mib(needed)} that needs; ${left}`,
    {
      hint: `Free at least ${mib(needed - available)} on that filesystem (\`snapvm state prune\` removes kept-aside failed states, \`snapvm snapshot delete\` snapshots), then start again.`,
      details: { instance: spec.name, hostResource: "space", dir, neededBytes: needed, availableBytes: available },
    },
  );
}
