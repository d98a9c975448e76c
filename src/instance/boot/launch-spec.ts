import { createHash, randomUUID } from "node:crypto";
import type { InstanceConfig } from "../../config/index.ts";
import type { Accel, GuestAccess, LaunchSpec } from "../../config/launch-spec.ts";
import type { InstancePaths, InstanceName } from "../../paths/index.ts";
import { instanceSockets, tinyImagePaths } from "../../paths/index.ts";

/** The tiny guest's kernel command line: serial console, and a panic ends QEMU (with -no-reboot). */
export const TINY_CMDLINE = "console=ttyS0 panic=-1 quiet";

/** A stable locally administered MAC per instance name (QEMU's 52:54:00 prefix). */
export function macForName(name: string): string {
  const hash = createHash("sha256").update(name).digest();
  return ["52", "54", "00", ...[...hash.subarray(0, 3)].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}

/**
 * Derives the QEMU launch spec from a resolved config, for a cold boot. `guestAccess` is decided by
 * the caller at boot (a qcow2 image is reached over SSH on a port free at that moment).
 */
export function launchSpecFromConfig(
  name: InstanceName,
  config: InstanceConfig,
  paths: InstancePaths,
  accel: Accel,
  guestAccess: GuestAccess,
  home?: string,
): LaunchSpec {
  const image = tinyImagePaths(home);
  return {
    name,
    accel,
    cpus: config.cpus,
    memoryBytes: config.memory.sizeBytes,
    memoryBacking: config.memory.backing,
    memoryPath: paths.memory,
    boot:
      config.image.kind === "tiny"
        ? { kind: "kernel", kernel: image.kernel, initrd: image.initrd, cmdline: TINY_CMDLINE }
        : config.boot === undefined
          ? { kind: "disk" }
          : { kind: "kernel", ...config.boot },
    disk: paths.disk,
    ...(config.image.kind === "qcow2" ? { cidataIso: paths.cidataIso } : {}),
    ports: config.ports.map((p) => ({ protocol: p.protocol, hostAddress: p.hostAddress, host: p.host, guest: p.guest })),
    guestAccess,
    mac: macForName(name),
    vmgenid: randomUUID(),
    ...instanceSockets(paths),
  };
}
