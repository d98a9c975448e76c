import { toConfigFile } from "./resolve.ts";
import type { InstanceConfig, PortForward } from "./types.ts";

/**
 * The fields that differ between two resolved configs, as snapvm.yaml paths in file order:
 * ["memory.size", "ports"]. Used to tell the user which edits a restore ignores (a restored VM keeps
 * the hardware it was saved with). `ports` is compared as a set: reordering forwards changes nothing.
 */
export function diffConfigs(a: InstanceConfig, b: InstanceConfig): string[] {
  const left = leaves(toConfigFile(a));
  const right = leaves(toConfigFile(b));
  const paths = [...new Set([...left.keys(), ...right.keys()])];
  return paths.filter((path) => left.get(path) !== right.get(path));
}

/** Flattens objects to dotted paths; lists are leaves. Values are canonical JSON so they compare as strings. */
function leaves(value: object, prefix = "", out = new Map<string, string>()): Map<string, string> {
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (key === "ports" && prefix === "") out.set(path, canonicalPorts(child as PortForward[]));
    else if (typeof child === "object" && child !== null && !Array.isArray(child)) leaves(child, path, out);
    else out.set(path, JSON.stringify(child));
  }
  return out;
}

function canonicalPorts(ports: readonly PortForward[]): string {
  return JSON.stringify(ports.map((p) => `${p.hostAddress}:${p.host}:${p.guest}/${p.protocol}`).sort());
}
