import { Document } from "yaml";
import type { ConfigFile, PortForwardFile } from "./types.ts";

const HEADER = " snapvm instance config. Fields left out take their defaults.";

/**
 * ConfigFile → snapvm.yaml text: fields in schema order, only those set, multi-line strings as
 * block scalars. Keys not in ConfigFile and empty sections ("disk: {}") are left out, so
 * parseConfigText(serializeConfig(f)) deep-equals f up to empty sections, for any valid f (tested).
 */
export function serializeConfig(file: ConfigFile): string {
  const doc = new Document(ordered(file));
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}

/** A copy with keys in a fixed, readable order and undefined or empty sections left out. */
function ordered(file: ConfigFile): Record<string, unknown> {
  return (
    pick({
      cpus: file.cpus,
      memory: pick({ size: file.memory?.size, backing: file.memory?.backing }),
      disk: pick({ size: file.disk?.size }),
      image: file.image,
      boot: pick({ kernel: file.boot?.kernel, initrd: file.boot?.initrd, cmdline: file.boot?.cmdline }),
      accel: file.accel,
      saveOnStop: file.saveOnStop,
      ports: file.ports?.map(orderedPort),
      snapshot: pick({ compression: file.snapshot?.compression, level: file.snapshot?.level }),
      timeouts: pick({ boot: file.timeouts?.boot, shutdown: file.timeouts?.shutdown, restore: file.timeouts?.restore }),
      ssh: pick({ user: file.ssh?.user }),
      cloudInit: pick({ userData: file.cloudInit?.userData }),
    }) ?? {}
  );
}

function orderedPort(port: PortForwardFile): Record<string, unknown> {
  return pick({ host: port.host, guest: port.guest, protocol: port.protocol, hostAddress: port.hostAddress }) ?? {};
}

/** Drops undefined values; an object left empty becomes undefined so its section is omitted. */
function pick(fields: Record<string, unknown>): Record<string, unknown> | undefined {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}
