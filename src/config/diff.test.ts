import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffConfigs } from "./diff.ts";
import { resolveConfig } from "./resolve.ts";

describe("diffConfigs", () => {
  it("is empty for equal configs, including sizes spelled differently", () => {
    assert.deepEqual(diffConfigs(resolveConfig({}), resolveConfig({ memory: { size: "512MiB" }, disk: { size: "2048M" } })), []);
  });

  it("lists changed fields as snapvm.yaml paths in file order", () => {
    const a = resolveConfig({});
    const b = resolveConfig({
      timeouts: { boot: 61 },
      memory: { size: "1G" },
      ports: [{ host: 8080, guest: 80 }],
      image: "/x.qcow2",
      cloudInit: { userData: "#cloud-config\n" },
    });
    assert.deepEqual(diffConfigs(a, b), ["memory.size", "image", "ports", "timeouts.boot", "cloudInit.userData"]);
    assert.deepEqual(diffConfigs(b, a), ["memory.size", "image", "ports", "timeouts.boot", "cloudInit.userData"]);
  });

  it("compares ports as a set", () => {
    const p1 = { host: 1, guest: 1 };
    const p2 = { host: 2, guest: 2, protocol: "udp" as const };
    assert.deepEqual(diffConfigs(resolveConfig({ ports: [p1, p2] }), resolveConfig({ ports: [p2, p1] })), []);
    assert.deepEqual(diffConfigs(resolveConfig({ ports: [p1] }), resolveConfig({ ports: [{ ...p1, hostAddress: "0.0.0.0" }] })), ["ports"]);
  });
});
