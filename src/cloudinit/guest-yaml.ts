import { stringify } from "yaml";

/**
 * YAML for a file the guest reads. cloud-init parses with PyYAML, i.e. YAML 1.1, which reads plain
 * scalars that 1.2 leaves alone as other types: `52:54:00:41:43:22` as a base-60 integer (so the NIC of
 * ~1.3 % of instance names never matched its network-config), `yes`/`on`/`n` as booleans, `0777` as
 * octal. Writing as 1.1 quotes every such string, so each value reads back with the type it was written.
 */
export function stringifyForGuest(value: unknown, options: { lineWidth?: number } = {}): string {
  return stringify(value, { version: "1.1", ...options });
}
