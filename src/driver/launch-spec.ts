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

export type BootSource =
  | { kind: "kernel"; kernel: string; initrd: string; cmdline: string }
  | { kind: "disk" };

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
  mac: string;
  /** VM generation ID; a fork gets a new one so a CONFIG_VMGENID guest reseeds its RNG. */
  vmgenid: string;
  qmpSocket: string;
  guestSocket: string;
  consoleSocket: string;
  consoleLog: string;
}
