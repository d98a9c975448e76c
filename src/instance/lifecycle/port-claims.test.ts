import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { instancePaths, parseInstanceName } from "../../paths/index.ts";
import { createInstance } from "./create.ts";
import { forwardsOverlap, pickUnclaimedPort, readPortClaims, refuseClaimedPorts, type PortClaim } from "./port-claims.ts";

test("forwards overlap on the same protocol and port when the addresses match or either is a wildcard", () => {
  const at = (hostAddress: string, host = 8080, protocol: "tcp" | "udp" = "tcp") => ({ protocol, hostAddress, host });
  assert.equal(forwardsOverlap(at("127.0.0.1"), at("127.0.0.1")), true);
  assert.equal(forwardsOverlap(at("0.0.0.0"), at("127.0.0.1")), true);
  assert.equal(forwardsOverlap(at("127.0.0.1"), at("")), true);
  assert.equal(forwardsOverlap(at("127.0.0.1"), at("127.0.0.2")), false);
  assert.equal(forwardsOverlap(at("0.0.0.0"), at("0.0.0.0", 8081)), false);
  assert.equal(forwardsOverlap(at("0.0.0.0"), at("0.0.0.0", 8080, "udp")), false);
});

/** A home with instance "web" forwarding 8080 in its config and, pinned at its last boot, SSH on 40022. */
function homeWithWeb(): string {
  const home = mkdtempSync(join(tmpdir(), "snapvm-claims-"));
  const web = instancePaths(parseInstanceName("web"), home);
  mkdirSync(web.bootDir, { recursive: true });
  writeFileSync(web.config, "ports:\n  - host: 8080\n    guest: 80\n");
  const spec = {
    ports: [{ protocol: "tcp", hostAddress: "127.0.0.1", host: 9090, guest: 90 }],
    guestAccess: { kind: "ssh", port: 40022, user: "u", keyPath: "/k" },
  };
  writeFileSync(web.bootLaunch, JSON.stringify({ spec }));
  mkdirSync(join(home, "instances", "torn"));
  writeFileSync(join(home, "instances", "torn", "snapvm.yaml"), "ports: [oops");
  return home;
}

test("claims come from every instance's config, pinned launch (SSH included) and saved state; unreadable files claim nothing", async () => {
  const home = homeWithWeb();
  try {
    const claims = await readPortClaims(home);
    assert.deepEqual(
      claims.map((c) => [c.instance, c.host, c.source]),
      [
        ["web", 8080, "config"],
        ["web", 9090, "pinned launch"],
        ["web", 40022, "pinned launch"],
      ],
    );
    assert.deepEqual(await readPortClaims(home, parseInstanceName("web")), []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a claimed port is refused with E_PORT_IN_USE naming the instance; create refuses it", async () => {
  const home = homeWithWeb();
  try {
    const claims: PortClaim[] = await readPortClaims(home);
    assert.throws(
      () => {
        refuseClaimedPorts('cannot create instance "api"', [{ protocol: "tcp", hostAddress: "127.0.0.1", host: 8080, guest: 8000 }], claims, "hint");
      },
      (error) => {
        assert.ok(isSnapvmError(error, ErrorCode.PortInUse));
        assert.equal(error.message, 'cannot create instance "api": host port 127.0.0.1:8080/tcp is already forwarded by instance "web" (its snapvm.yaml)');
        assert.equal(error.details["claimedBy"], "web");
        return true;
      },
    );
    refuseClaimedPorts("x", [{ protocol: "udp", hostAddress: "0.0.0.0", host: 8080, guest: 80 }], claims, "hint");

    const image = join(home, "cloud.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "1G"]);
    await assert.rejects(createInstance(parseInstanceName("api"), { image, ports: ["9090:80"], home }), {
      code: ErrorCode.PortInUse,
      message: /host port 127\.0\.0\.1:9090\/tcp is already forwarded by instance "web" \(the launch it booted with\)/,
    });
    await createInstance(parseInstanceName("api"), { image, ports: ["9091:80"], home });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("pickUnclaimedPort gives ports free now, never one reserved or claimed", async () => {
  const reserved = new Set<string>();
  const first = await pickUnclaimedPort("tcp", "127.0.0.1", [], reserved);
  const claims: PortClaim[] = [{ instance: parseInstanceName("web"), protocol: "tcp", hostAddress: "0.0.0.0", host: first + 1, source: "config" }];
  const picked = new Set([first]);
  for (let i = 0; i < 10; i++) picked.add(await pickUnclaimedPort("tcp", "127.0.0.1", claims, reserved));
  assert.equal(picked.size, 11, "no port handed out twice");
  assert.equal(picked.has(first + 1), false);
  assert.ok((await pickUnclaimedPort("udp", "127.0.0.1", [])) > 0);
});
