import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { PortForward } from "../../config/launch-spec.ts";
import { rewriteForkPorts } from "./fork-config.ts";

const port = (host: number, guest: number): PortForward => ({ host, guest, protocol: "tcp", hostAddress: "127.0.0.1" });

describe("rewriteForkPorts", () => {
  it("sets the real ports[i].host and never a commented example", () => {
    const yaml = [
      "cpus: 1",
      "# Example:",
      "#   ports:",
      "#     - host: 8080",
      "#       guest: 80",
      "ports:",
      "  - guest: 80",
      "    host: 8080 # the web server",
      "  - { host: 5353, guest: 53, protocol: udp }",
      "",
    ].join("\n");
    const out = rewriteForkPorts(yaml, [port(8080, 80), { ...port(5353, 53), protocol: "udp" }], [port(40001, 80), { ...port(5353, 53), protocol: "udp" }]);
    assert.match(out, /^# {5}- host: 8080$/m, "the comment is kept as it was");
    assert.match(out, /host: 40001 # the web server/);
    assert.deepEqual(parse(out), {
      cpus: 1,
      ports: [
        { guest: 80, host: 40001 },
        { host: 5353, guest: 53, protocol: "udp" },
      ],
    });
  });

  it("leaves a config without ports, or with ports changed since the snapshot, alone", () => {
    assert.equal(rewriteForkPorts("cpus: 2\n# host: 8080\n", [port(8080, 80)], [port(9, 80)]), "cpus: 2\n# host: 8080\n");
    const edited = "ports:\n  - host: 7000\n    guest: 80\n";
    assert.equal(rewriteForkPorts(edited, [port(8080, 80)], [port(9, 80)]), edited);
  });
});
