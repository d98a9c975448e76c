import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfigText } from "./load.ts";
import { serializeConfig } from "./serialize.ts";
import type { ConfigFile } from "./types.ts";

describe("serializeConfig", () => {
  it("writes only the fields set, in schema order, as readable YAML", () => {
    const text = serializeConfig({
      ports: [{ guest: 80, host: 8080 }],
      memory: { backing: "anonymous", size: "1G" },
      cpus: 2,
      cloudInit: { userData: "#cloud-config\npackages:\n  - git\n" },
    });
    assert.equal(
      text,
      [
        "# snapvm instance config. Fields left out take their defaults.",
        "",
        "cpus: 2",
        "memory:",
        "  size: 1G",
        "  backing: anonymous",
        "ports:",
        "  - host: 8080",
        "    guest: 80",
        "cloudInit:",
        "  userData: |",
        "    #cloud-config",
        "    packages:",
        "      - git",
        "",
      ].join("\n"),
    );
  });

  it("writes an empty config as an empty map", () => {
    assert.equal(serializeConfig({}), "# snapvm instance config. Fields left out take their defaults.\n\n{}\n");
    assert.equal(serializeConfig({ memory: {}, ssh: {} }), "# snapvm instance config. Fields left out take their defaults.\n\n{}\n");
  });

  it("round-trips through parseConfigText", () => {
    const files: ConfigFile[] = [
      {},
      { cpus: 4, image: "/images/a b: c.qcow2", accel: "tcg", saveOnStop: false },
      { image: "root.qcow2", boot: { kernel: "boot/vmlinux", initrd: "/b/initrd: x.img", cmdline: "root=/dev/vda rw console=ttyS0 quiet" } },
      {
        cpus: 64,
        memory: { size: "64MiB", backing: "file" },
        disk: { size: "16M" },
        image: "tiny",
        accel: "kvm",
        saveOnStop: true,
        ports: [
          { host: 1, guest: 65535, protocol: "udp", hostAddress: "0.0.0.0" },
          { host: 2, guest: 3 },
        ],
        snapshot: { compression: "zstd", level: 19 },
        timeouts: { boot: 0.25, shutdown: 3600, restore: 1 },
        ssh: { user: "ec2-user" },
        cloudInit: { userData: "#cloud-config\nwrite_files:\n  - path: /x\n    content: 'yes: no'\n" },
      },
      { cloudInit: { userData: "" } },
      { cloudInit: { userData: "  leading spaces\ttab\n\nand: 'quotes\" ---\n..." } },
    ];
    for (const file of files) assert.deepEqual(parseConfigText(serializeConfig(file), "x"), file);
  });
});
