import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootPhaseOf, laterPhase, watchBootPhase, type BootPhase } from "./boot-phase.ts";

// Lines from a Debian bookworm cloud image's console under snapvm (escapes removed).
const KERNEL =
  "[    0.000000] Linux version 6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org)\n[    0.000000] Command line: root=LABEL=snapvm-root rw console=ttyS0,115200\n";
const CLOUD_INIT = "[   28.150496] systemd[1]: Starting cloud-init-local.service - Initial cloud-init job (pre-networking)...\n";
const SERVICES = "[  OK  ] Started qemu-guest-agent.service - QEMU Guest Agent.\n[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\n";

describe("boot phases from the console", () => {
  it("names the latest phase the console shows", () => {
    assert.equal(bootPhaseOf(""), "firmware");
    assert.equal(bootPhaseOf("SeaBIOS (version 1.16.3)\nBooting from Hard Disk...\n"), "firmware");
    assert.equal(bootPhaseOf(KERNEL), "kernel");
    assert.equal(bootPhaseOf(KERNEL + CLOUD_INIT), "cloud-init");
    assert.equal(bootPhaseOf(KERNEL + CLOUD_INIT + SERVICES), "services");
    assert.equal(bootPhaseOf("[  OK  ] Started sshd.service - OpenSSH server daemon.\n"), "services");
  });

  it("never goes back when the tail no longer shows an earlier marker", () => {
    assert.equal(laterPhase("cloud-init", "kernel"), "cloud-init");
    assert.equal(laterPhase("kernel", "services"), "services");
  });

  it("reports each new phase once as the log grows, and nothing after stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snapvm-phase-"));
    try {
      const log = join(dir, "console.log");
      // The previous boot's lines (QEMU appends): not this boot's phase.
      writeFileSync(log, KERNEL + CLOUD_INIT + SERVICES);
      const seen: BootPhase[] = [];
      const stop = watchBootPhase(log, (phase) => seen.push(phase), 10);
      const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 60));
      await settle();
      appendFileSync(log, "SeaBIOS (version 1.16.3)\n");
      await settle();
      appendFileSync(log, KERNEL);
      await settle();
      appendFileSync(log, KERNEL);
      await settle();
      appendFileSync(log, CLOUD_INIT + SERVICES);
      await settle();
      stop();
      appendFileSync(log, "later\n");
      await settle();
      assert.deepEqual(seen, ["firmware", "kernel", "services"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
