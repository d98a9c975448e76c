import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveConfig } from "../../config/index.ts";
import { instanceDirPaths, parseInstanceName } from "../../paths/index.ts";
import { launchSpecFromConfig } from "./launch-spec.ts";

describe("launchSpecFromConfig", () => {
  const paths = instanceDirPaths("/h/instances/web");
  const name = parseInstanceName("web");
  const ssh = { kind: "ssh", port: 2222, user: "debian", keyPath: paths.sshKey } as const;

  it("boots a qcow2 image through its bootloader, or its kernel directly when boot is set", () => {
    const firmware = launchSpecFromConfig(name, resolveConfig({ image: "/i/debian.qcow2" }), paths, "tcg", ssh, "/h");
    assert.deepEqual(firmware.boot, { kind: "disk" });
    const boot = { kernel: "/i/vmlinux", initrd: "/i/initrd.img", cmdline: "root=/dev/vda rw console=ttyS0" };
    const direct = launchSpecFromConfig(name, resolveConfig({ image: "/i/rootfs.qcow2", boot }), paths, "tcg", ssh, "/h");
    assert.deepEqual(direct.boot, { kind: "kernel", ...boot });
    assert.equal(direct.cidataIso, paths.cidataIso, "cloud-init still gets its data");
  });

  it("gives every new launch qemu-guest-agent's channel in the instance directory", () => {
    const spec = launchSpecFromConfig(name, resolveConfig({}), paths, "tcg", { kind: "agent" }, "/h");
    assert.equal(spec.qgaSocket, "/h/instances/web/qga.sock");
  });
});
