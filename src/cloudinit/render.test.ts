import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { renderCidata } from "./index.ts";

describe("renderCidata", () => {
  const files = renderCidata({
    instanceId: "snapvm-web-1",
    hostname: "web",
    user: "debian",
    publicKey: "ssh-ed25519 AAAA snapvm-web",
    mac: "52:54:00:12:34:56",
  });

  it("writes exactly the three NoCloud files", () => {
    assert.deepEqual(Object.keys(files).sort(), ["meta-data", "network-config", "user-data"]);
  });

  it("names the instance and its hostname in meta-data", () => {
    assert.deepEqual(parse(files["meta-data"] ?? ""), { "instance-id": "snapvm-web-1", "local-hostname": "web" });
  });

  it("asks for DHCP on the NIC with snapvm's MAC, named eth0", () => {
    assert.deepEqual(parse(files["network-config"] ?? ""), {
      version: 2,
      ethernets: { eth0: { match: { macaddress: "52:54:00:12:34:56" }, "set-name": "eth0", dhcp4: true } },
    });
  });
});
