/**
 * Everything needed to start one VM, independent of how it is started (cold boot or incoming state).
 * A saved state only loads into a QEMU with the same devices and memory layout, so the spec a VM
 * booted with is pinned next to its state and reused verbatim on restore.
 */
export interface PortForward {
  protocol: "tcp" | "udp";
  hostAddress: string;
  host: number;
  guest: number;
}

export type BootSource = { kind: "kernel"; kernel: string; initrd: string; cmdline: string } | { kind: "disk" };

/**
 * How snapvm reaches a shell in the guest. "agent": the built-in guest's virtio-serial agent
 * (guestSocket). "ssh": the system ssh client to `user@127.0.0.1:port`, a host port QEMU forwards
 * to the guest's port 22, with the key snapvm generated and injected through cloud-init.
 */
export type GuestAccess = { kind: "agent" } | { kind: "ssh"; port: number; user: string; keyPath: string };

export type SshAccess = Extract<GuestAccess, { kind: "ssh" }>;

/** The guest's SSH port; the forward to it is added to the NIC's user-mode network. */
export const GUEST_SSH_PORT = 22;

export type Accel = "kvm" | "tcg";
export type MemoryBacking = "file" | "anonymous";

export interface LaunchSpec {
  name: string;
  accel: Accel;
  cpus: number;
  memoryBytes: number;
  memoryBacking: MemoryBacking;
  /** The guest RAM file when memoryBacking is "file"; mapped share=on so its pages are the guest's RAM. */
  memoryPath: string;
  boot: BootSource;
  disk: string;
  cidataIso?: string;
  ports: PortForward[];
  /**
   * Chosen at cold boot (the SSH port is a free one picked then) and pinned with the rest, so a
   * restore reuses the same forwarded port. Absent in specs pinned before it existed: read it
   * with guestAccessOf(), which treats absent as the agent.
   */
  guestAccess?: GuestAccess;
  mac: string;
  /** VM generation ID; a fork gets a new one so a CONFIG_VMGENID guest reseeds its RNG. */
  vmgenid: string;
  qmpSocket: string;
  guestSocket: string;
  /**
   * qemu-guest-agent's channel (virtio-serial port org.qemu.guest_agent.0), on every instance booted
   * since it existed. Absent in specs pinned before: their states load only into a QEMU without it.
   */
  qgaSocket?: string;
  consoleSocket: string;
  consoleLog: string;
}

/** Where a launch's sockets and console log live: an instance directory, or a helper's temp dir. */
export interface InstanceSockets {
  qmpSocket: string;
  guestSocket: string;
  qgaSocket: string;
  consoleSocket: string;
  consoleLog: string;
}

/**
 * The spec with its sockets moved to `sockets` (a fork, an import, a converter). The qemu-guest-agent
 * channel stays exactly as present or absent as in `spec`: a state loads only into the same device set.
 */
export function relocateSockets(spec: LaunchSpec, sockets: InstanceSockets): LaunchSpec {
  const { qgaSocket, ...rest } = sockets;
  const { qgaSocket: had, ...base } = spec;
  return { ...base, ...rest, ...(had === undefined ? {} : { qgaSocket }) };
}

/** The guest access of a spec; specs pinned before guestAccess existed used the agent. */
export function guestAccessOf(spec: Pick<LaunchSpec, "guestAccess">): GuestAccess {
  return spec.guestAccess ?? { kind: "agent" };
}
