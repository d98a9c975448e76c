import { GUEST_SSH_PORT, guestAccessOf, type LaunchSpec, type PortForward } from "../../config/launch-spec.ts";

export const QEMU_BINARY = "qemu-system-x86_64";
/** The memory backend id is fixed so states saved from any instance load into any other (RAMBlock names must match). */
export const MEMORY_BACKEND_ID = "mem";
export const GUEST_PORT_NAME = "org.snapvm.agent";
/** The port qemu-guest-agent opens (its default); cloud images start it when the port appears. */
export const QGA_PORT_NAME = "org.qemu.guest_agent.0";
export const QGA_CHARDEV_ID = "qga";
export const DISK_NODE = "disk0";

export interface ArgvOptions {
  /** Start with `-incoming defer` to load a saved state instead of booting. */
  incoming?: boolean;
  /** Override share=on for the RAM file (forks map the template's file share=off, i.e. copy-on-write). */
  shareMemory?: boolean;
  /** `-S`: never run the guest (a QEMU that only receives a state to write it elsewhere). */
  frozen?: boolean;
}

/** QEMU's option syntax escapes a comma in a value by doubling it. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(",", ",,");
}

function hostForward(port: PortForward): string {
  return `hostfwd=${port.protocol}:${port.hostAddress}:${port.host}-:${port.guest}`;
}

/** The user's forwards, then snapvm's own to the guest's SSH port (loopback only) when it is reached over SSH. */
function hostForwards(spec: LaunchSpec): PortForward[] {
  const access = guestAccessOf(spec);
  if (access.kind !== "ssh") return spec.ports;
  return [...spec.ports, { protocol: "tcp", hostAddress: "127.0.0.1", host: access.port, guest: GUEST_SSH_PORT }];
}

/** qemu-guest-agent's port, on the same virtio-serial bus; only where the spec has it (see LaunchSpec.qgaSocket). */
function qgaChannel(spec: LaunchSpec): string[] {
  if (spec.qgaSocket === undefined) return [];
  return [
    "-chardev",
    `socket,id=${QGA_CHARDEV_ID},path=${escapeOptionValue(spec.qgaSocket)},server=on,wait=off`,
    "-device",
    `virtserialport,bus=vser0.0,chardev=${QGA_CHARDEV_ID},name=${QGA_PORT_NAME}`,
  ];
}

/** Builds the full argv (without the binary). Pure: the same spec gives the same argv. */
export function buildQemuArgv(spec: LaunchSpec, options: ArgvOptions = {}): string[] {
  const e = escapeOptionValue;
  const memMiB = Math.floor(spec.memoryBytes / (1024 * 1024));
  const share = options.shareMemory ?? true;
  const memoryBackend =
    spec.memoryBacking === "file"
      ? `memory-backend-file,id=${MEMORY_BACKEND_ID},size=${memMiB}M,mem-path=${e(spec.memoryPath)},share=${share ? "on" : "off"}`
      : `memory-backend-ram,id=${MEMORY_BACKEND_ID},size=${memMiB}M`;
  const argv = [
    "-name",
    `snapvm-${spec.name}`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-machine",
    `q35,memory-backend=${MEMORY_BACKEND_ID}`,
    "-accel",
    spec.accel,
    "-cpu",
    spec.accel === "kvm" ? "host" : "max",
    "-smp",
    String(spec.cpus),
    "-m",
    `${memMiB}M`,
    "-object",
    memoryBackend,
    "-chardev",
    `socket,id=console,path=${e(spec.consoleSocket)},server=on,wait=off,logfile=${e(spec.consoleLog)},logappend=on`,
    "-serial",
    "chardev:console",
    "-device",
    "virtio-serial-pci,id=vser0",
    "-chardev",
    `socket,id=guest,path=${e(spec.guestSocket)},server=on,wait=off`,
    "-device",
    `virtserialport,bus=vser0.0,chardev=guest,name=${GUEST_PORT_NAME}`,
    ...qgaChannel(spec),
    "-blockdev",
    `driver=file,filename=${e(spec.disk)},node-name=${DISK_NODE}-file`,
    "-blockdev",
    `driver=qcow2,file=${DISK_NODE}-file,node-name=${DISK_NODE}`,
    "-device",
    `virtio-blk-pci,drive=${DISK_NODE},id=vda`,
    "-netdev",
    ["user", "id=net0", ...hostForwards(spec).map(hostForward)].join(","),
    "-device",
    `virtio-net-pci,netdev=net0,mac=${spec.mac}`,
    "-device",
    `vmgenid,id=vmgenid0,guid=${spec.vmgenid}`,
    "-qmp",
    `unix:${e(spec.qmpSocket)},server=on,wait=off`,
  ];
  if (spec.boot.kind === "kernel") {
    argv.push("-kernel", spec.boot.kernel, "-initrd", spec.boot.initrd, "-append", spec.boot.cmdline);
  }
  if (spec.cidataIso !== undefined) {
    // A CD on virtio-scsi, not on q35's AHCI: Debian's cloud kernel has no AHCI driver (Lima does the same).
    argv.push(
      "-drive",
      `if=none,id=cidata,file=${e(spec.cidataIso)},format=raw,readonly=on,media=cdrom`,
      "-device",
      "virtio-scsi-pci,id=scsi0",
      "-device",
      "scsi-cd,bus=scsi0.0,drive=cidata",
    );
  }
  // A guest that reboots or panics ends the QEMU process; the agent records why.
  argv.push("-no-reboot");
  if (options.incoming === true) argv.push("-incoming", "defer");
  if (options.frozen === true) argv.push("-S");
  return argv;
}
