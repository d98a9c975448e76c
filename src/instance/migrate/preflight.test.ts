import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import type { LaunchSpec } from "../../config/launch-spec.ts";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { parseInstanceName } from "../../paths/index.ts";
import { preflight } from "./preflight.ts";
import type { Offer } from "./protocol.ts";

/** An offer with only what the preflight reads; nothing here starts QEMU. */
function offer(ports: LaunchSpec["ports"] = []): Offer {
  return {
    kind: "offer",
    version: 1,
    name: "moving",
    sourceHome: "/src/home",
    sourceHost: "a",
    qemuVersion: "10.0.2",
    accel: "tcg",
    launch: { spec: { ports } as unknown as LaunchSpec, argv: [], qemuVersion: "10.0.2", accelReason: "", bootedAt: "" },
    config: "",
    bootConfig: {},
    files: [],
    top: { name: "top.qcow2", virtualSize: 1 },
    timeoutMs: 1000,
    postcopy: false,
  };
}

function refusedWith(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isSnapvmError(error, ErrorCode.MigrationRefused), String(error));
    assert.match(error.message, pattern);
    assert.match(error.message, /nothing was moved$/);
    assert.ok(error.hint !== undefined);
    return true;
  };
}

describe("the destination's preflight", () => {
  let home: string;
  let server: Server | undefined;
  before(() => {
    home = mkdtempSync(join(tmpdir(), "snapvm-preflight-"));
    mkdirSync(join(home, "instances"));
  });
  afterEach(() => {
    delete process.env["SNAPVM_TEST_MIGRATION_QEMU_VERSION"];
    server?.close();
    server = undefined;
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it("passes a free name and free ports on the same QEMU", async () => {
    process.env["SNAPVM_TEST_MIGRATION_QEMU_VERSION"] = "10.0.2";
    await preflight(offer(), parseInstanceName("moving"), home);
  });

  it("refuses another QEMU version, naming both", async () => {
    process.env["SNAPVM_TEST_MIGRATION_QEMU_VERSION"] = "9.2.0";
    await assert.rejects(preflight(offer(), parseInstanceName("moving"), home), refusedWith(/runs QEMU 10\.0\.2 and this host runs QEMU 9\.2\.0/));
  });

  it("refuses a name this host already has", async () => {
    process.env["SNAPVM_TEST_MIGRATION_QEMU_VERSION"] = "10.0.2";
    mkdirSync(join(home, "instances", "taken"));
    await assert.rejects(preflight(offer(), parseInstanceName("taken"), home), refusedWith(/instance "taken" already exists/));
  });

  it("refuses a forwarded port that something here listens on", async () => {
    process.env["SNAPVM_TEST_MIGRATION_QEMU_VERSION"] = "10.0.2";
    const listening = createServer();
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const address = listening.address();
    assert.ok(address !== null && typeof address === "object");
    const ports = [{ protocol: "tcp" as const, hostAddress: "127.0.0.1", host: address.port, guest: 80 }];
    await assert.rejects(preflight(offer(ports), parseInstanceName("moving"), home), refusedWith(new RegExp(`${address.port}.* is in use`)));
  });
});
