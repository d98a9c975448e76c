import { isMap, isSeq, parseDocument } from "yaml";
import type { PortForward } from "../../config/launch-spec.ts";

/**
 * The source's snapvm.yaml with the fork's host ports: `ports[i].host` is set to the fork's port where
 * it still holds the port the snapshot was launched with. Edited as a YAML document, not as text, so
 * comments and layout stay and a commented example (`#   - host: 8080`) is never taken for the value.
 */
export function rewriteForkPorts(yaml: string, before: readonly PortForward[], after: readonly PortForward[]): string {
  const doc = parseDocument(yaml);
  const ports = doc.get("ports", true);
  if (!isSeq(ports)) return yaml;
  const edits = ports.items.flatMap((item, i) => {
    const was = before[i];
    const next = after[i];
    if (!isMap(item) || was === undefined || next === undefined || next.host === was.host || item.get("host") !== was.host) return [];
    return [{ i, host: next.host }];
  });
  for (const { i, host } of edits) doc.setIn(["ports", i, "host"], host);
  return edits.length > 0 ? doc.toString() : yaml;
}
