import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { CLOUD_CONFIG_HEADER, parseUserCloudConfig, renderUserData } from "./user-data.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests snapvm-web";

function rendered(extra?: string): Record<string, unknown> {
  const text = renderUserData({ user: "debian", publicKey: `${KEY}\n`, ...(extra === undefined ? {} : { extra }) });
  assert.ok(text.startsWith(`${CLOUD_CONFIG_HEADER}\n`), "cloud-init needs the header on the first line");
  return parse(text) as Record<string, unknown>;
}

function refusal(text: string): string {
  try {
    parseUserCloudConfig(text);
  } catch (error) {
    assert.ok(isSnapvmError(error, ErrorCode.InvalidConfig));
    assert.ok(error.hint !== undefined);
    return error.message;
  }
  return assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

describe("renderUserData", () => {
  it("creates the ssh user with snapvm's key, passwordless sudo and a locked password", () => {
    assert.deepEqual(rendered(), {
      users: [
        {
          name: "debian",
          gecos: "snapvm",
          shell: "/bin/bash",
          sudo: "ALL=(ALL) NOPASSWD:ALL",
          lock_passwd: true,
          ssh_authorized_keys: [KEY],
        },
      ],
      ssh_pwauth: false,
      manage_etc_hosts: true,
    });
  });

  it("merges the user's cloud-config: lists append, mappings merge, scalars are the user's", () => {
    const merged = rendered(
      [
        "#cloud-config",
        "packages: [curl]",
        "ssh_pwauth: true",
        "users:",
        "  - default",
        "  - name: debian",
        "    shell: /bin/sh",
        "    ssh_authorized_keys: [ssh-ed25519 AAAAmine me@laptop]",
        "  - name: ops",
        "    groups: [adm]",
      ].join("\n"),
    );
    assert.deepEqual(merged["packages"], ["curl"]);
    assert.equal(merged["ssh_pwauth"], true);
    assert.equal(merged["manage_etc_hosts"], true);
    assert.deepEqual(merged["users"], [
      {
        name: "debian",
        gecos: "snapvm",
        shell: "/bin/sh",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [KEY, "ssh-ed25519 AAAAmine me@laptop"],
      },
      "default",
      { name: "ops", groups: ["adm"] },
    ]);
  });

  it("merges nested mappings key by key", () => {
    const merged = rendered("manage_etc_hosts: localhost\nwrite_files: [{path: /etc/x, content: y}]\nbootcmd: [echo hi]");
    assert.equal(merged["manage_etc_hosts"], "localhost");
    assert.deepEqual(merged["write_files"], [{ path: "/etc/x", content: "y" }]);
    assert.deepEqual(merged["bootcmd"], ["echo hi"]);
  });

  it("treats empty user-data as nothing to merge", () => {
    assert.deepEqual(rendered(""), rendered());
    assert.deepEqual(rendered("#cloud-config\n"), rendered());
    assert.deepEqual(rendered("# only a comment\n"), rendered());
  });
});

describe("parseUserCloudConfig", () => {
  it("refuses user-data that is not a cloud-config mapping, saying why", () => {
    assert.match(refusal("#!/bin/sh\necho hi\n"), /^cloudInit\.userData cannot be used: it starts with "#!\/bin\/sh"; only #cloud-config can be merged/);
    assert.match(refusal("#include http://example.invalid/x\n"), /it starts with "#include/);
    assert.match(refusal("- a\n- b\n"), /its top level is not a mapping of cloud-config keys$/);
    assert.match(refusal("just text"), /its top level is not a mapping/);
    assert.match(refusal("packages: [curl\n"), /it is not valid YAML: .*line 2/s);
  });
});
