import { BUILTIN_IMAGE, type CompleteConfigFile, type ConfigFile, type PortForward, type PortForwardFile } from "./types.ts";

/**
 * Every default, once (habit 8). Returns a fresh object so callers may mutate what they get.
 * templates/default.yaml shows the same values; a test keeps the two equal.
 */
export function defaultConfigFile(): CompleteConfigFile {
  return {
    cpus: 1,
    memory: { size: "512M", backing: "file" },
    disk: { size: "2G" },
    image: BUILTIN_IMAGE,
    accel: "auto",
    saveOnStop: true,
    ports: [],
    snapshot: { compression: "none", level: 3 },
    timeouts: { boot: 60, shutdown: 30, restore: 20 },
    ssh: { user: "debian" },
    cloudInit: {},
  };
}

/**
 * The boot timeout of a qcow2 (cloud) image when snapvm.yaml sets none, in seconds. Such an image
 * runs firmware, a distro kernel, systemd and cloud-init: about a minute to the guest agent under TCG
 * here (a stock Debian cloud image: 31.8 s to its service, issue 12), so 5× that. The built-in guest
 * answers in ~2 s and keeps defaultConfigFile()'s 60.
 */
export const CLOUD_IMAGE_BOOT_TIMEOUT_S = 300;

export const PORT_DEFAULTS: Pick<PortForward, "protocol" | "hostAddress"> = Object.freeze({
  protocol: "tcp",
  hostAddress: "127.0.0.1",
});

export function portWithDefaults(port: PortForwardFile): PortForward {
  return {
    host: port.host,
    guest: port.guest,
    protocol: port.protocol ?? PORT_DEFAULTS.protocol,
    hostAddress: port.hostAddress ?? PORT_DEFAULTS.hostAddress,
  };
}

/**
 * The one place precedence is decided: a field set in the file wins over the default.
 * Does not validate; resolveConfig validates first.
 */
export function withDefaults(file: ConfigFile): CompleteConfigFile {
  const d = defaultConfigFile();
  return {
    cpus: file.cpus ?? d.cpus,
    memory: {
      size: file.memory?.size ?? d.memory.size,
      backing: file.memory?.backing ?? d.memory.backing,
    },
    disk: { size: file.disk?.size ?? d.disk.size },
    image: file.image ?? d.image,
    ...(file.boot === undefined ? {} : { boot: { ...file.boot } }),
    accel: file.accel ?? d.accel,
    saveOnStop: file.saveOnStop ?? d.saveOnStop,
    ports: file.ports?.map(portWithDefaults) ?? d.ports,
    snapshot: {
      compression: file.snapshot?.compression ?? d.snapshot.compression,
      level: file.snapshot?.level ?? d.snapshot.level,
    },
    timeouts: {
      boot: file.timeouts?.boot ?? ((file.image ?? d.image) === BUILTIN_IMAGE ? d.timeouts.boot : CLOUD_IMAGE_BOOT_TIMEOUT_S),
      shutdown: file.timeouts?.shutdown ?? d.timeouts.shutdown,
      restore: file.timeouts?.restore ?? d.timeouts.restore,
    },
    ssh: { user: file.ssh?.user ?? d.ssh.user },
    cloudInit: file.cloudInit?.userData === undefined ? {} : { userData: file.cloudInit.userData },
  };
}
