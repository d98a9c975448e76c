import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestHome } from "./harness.ts";

interface StartJson {
  status: { bootKind: string; pendingChanges?: string[] };
  notices: string[];
}
interface Info {
  state: string;
  agentPid?: number;
  suspended?: { allocatedBytes: number };
}

/** Fills guest memory (tmpfs) with random data and writes a file to the disk; returns both checksums. */
async function dirty(home: TestHome, name: string, megabytes: number): Promise<string> {
  return home.ok([
    "exec",
    name,
    "--",
    `dd if=/dev/urandom of=/tmp/ram.bin bs=1M count=${megabytes} 2>/dev/null && dd if=/dev/urandom of=/mnt/data/disk.bin bs=1M count=1 2>/dev/null && sync && md5sum /tmp/ram.bin /mnt/data/disk.bin`,
  ]);
}

/** The same checksums after a restore, with the guest's page cache dropped so the disk file is re-read. */
async function checksums(home: TestHome, name: string): Promise<string> {
  return home.ok(["exec", name, "--", "echo 3 > /proc/sys/vm/drop_caches && md5sum /tmp/ram.bin /mnt/data/disk.bin"]);
}

async function waitFor(predicate: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("suspend to disk and resume", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("stop saves (saveOnStop), start restores memory, disk and clock, and consumes the state", async () => {
    await home.ok(["create", "sus", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "sus"]);
    const before = await dirty(home, "sus", 64);
    // An hour behind, as if suspended that long: the restore must bring it back to the host's.
    await home.ok(["exec", "sus", "--", "date", "-u", "-s", `@${Math.round(Date.now() / 1000) - 3600}`]);
    const saved = await home.json<{ action: string; save: { pauseMs: number; stateBytes: number } }>(["stop", "sus"]);
    assert.equal(saved.action, "saved");
    assert.ok(saved.save.stateBytes > 64 * 1024 * 1024, "the RAM file holds the dirtied memory");
    const info = await home.json<Info>(["info", "sus"]);
    assert.equal(info.state, "suspended");
    assert.ok((info.suspended?.allocatedBytes ?? 0) > 0);
    assert.match(await home.ok(["list"]), /sus\s+│ suspended/);

    const resumed = await home.json<StartJson>(["start", "sus"]);
    assert.equal(resumed.status.bootKind, "restore");
    assert.equal(await checksums(home, "sus"), before);
    // The built-in guest's clock is set to the second: within 1 s of the host's, bracketed by the host's
    // clock before and after the exec that reads it (whole seconds in the guest, so floored).
    const hostBefore = Date.now() / 1000;
    const guestNow = Number(await home.ok(["exec", "sus", "--", "date", "+%s"]));
    const hostAfter = Date.now() / 1000;
    assert.ok(
      guestNow >= Math.floor(hostBefore - 1) && guestNow <= hostAfter + 1,
      `the guest clock (${guestNow}) is within 1 s of the host's [${hostBefore.toFixed(3)}, ${hostAfter.toFixed(3)}] after the restore`,
    );
    assert.equal(existsSync(join(home.instanceDir("sus"), "suspend")), false, "a restored state is consumed");
    await home.ok(["delete", "--force", "sus"]);
  });

  test("save always saves; saveOnStop=false shuts down; --save overrides once", async () => {
    await home.ok(["create", "flags", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["config", "set", "flags", "saveOnStop=false"]);
    await home.ok(["start", "flags"]);
    assert.equal((await home.json<{ action: string }>(["stop", "flags"])).action, "shutdown");
    await home.ok(["start", "flags"]);
    assert.equal((await home.json<{ action: string }>(["stop", "--save", "flags"])).action, "saved");
    assert.equal((await home.json<StartJson>(["start", "flags"])).status.bootKind, "restore");
    const figures = await home.json<{ pauseMs: number }>(["save", "flags"]);
    assert.ok(figures.pauseMs > 0);
    assert.equal((await home.json<Info>(["info", "flags"])).state, "suspended");
    const again = await home.run(["save", "flags"]);
    assert.match(again.stderr, /instance "flags" is not running \(suspended\); there is nothing to save.*\[E_INSTANCE_NOT_RUNNING\]/s);
    await home.ok(["delete", "flags"]);
  });

  test("a corrupt or foreign state falls back to a cold boot, kept aside with the reason", async () => {
    await home.ok(["create", "bad", "--memory", "256M", "--disk", "1G"]);
    const corruptions: [string, (dir: string) => void, RegExp][] = [
      [
        "truncated device state",
        (dir) => {
          truncateSync(join(dir, "devices.state"), 1000);
        },
        /devices\.state is 1000 bytes/,
      ],
      [
        "newer major format",
        (dir) => {
          const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Record<string, unknown>;
          writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, formatVersion: "2.0.0" }));
        },
        /has format 2\.0\.0; this snapvm reads 1\.0–1\.1/,
      ],
      [
        "not a manifest",
        (dir) => {
          writeFileSync(join(dir, "manifest.json"), '{"hello": 1}');
        },
        /is not a snapvm state manifest/,
      ],
      [
        "garbage device state",
        (dir) => {
          writeFileSync(join(dir, "devices.state"), "x".repeat(readFileSync(join(dir, "devices.state")).length));
        },
        /does not match its digest/,
      ],
    ];
    for (const [what, corrupt, reason] of corruptions) {
      await home.ok(["start", "bad"]);
      await home.ok(["stop", "bad"]);
      corrupt(join(home.instanceDir("bad"), "suspend"));
      const result = await home.run(["start", "bad", "--json"]);
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      const start = JSON.parse(result.stdout) as StartJson;
      assert.equal(start.status.bootKind, "cold", what);
      assert.match(start.notices.join("\n"), reason, what);
      assert.match(result.stderr, /restore failed, cold booting instead/, what);
      assert.equal(await home.ok(["exec", "bad", "--", "echo", "up"]), "up\n");
      await home.ok(["stop", "--no-save", "bad"]);
    }
    const aside = readdirSync(join(home.instanceDir("bad"), "failed-states"));
    assert.equal(aside.length, corruptions.length);
    for (const dir of aside) assert.ok(existsSync(join(home.instanceDir("bad"), "failed-states", dir, "REASON")));
    await home.ok(["delete", "bad"]);
  });

  test("edits made since boot are reported on resume and applied by restart", async () => {
    await home.ok(["create", "edit", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "edit"]);
    await home.ok(["stop", "edit"]);
    await home.ok(["config", "set", "edit", "memory.size=320M"]);
    const resumed = await home.run(["start", "edit", "--json"]);
    const json = JSON.parse(resumed.stdout) as StartJson;
    assert.equal(json.status.bootKind, "restore");
    assert.deepEqual(json.status.pendingChanges, ["memory.size"]);
    assert.match(await home.ok(["exec", "edit", "--", "grep", "MemTotal", "/proc/meminfo"]), /MemTotal:\s+2\d\d\d\d\d kB/);
    await home.ok(["stop", "edit"]);
    const restarted = await home.json<{ droppedState: boolean; status: { bootKind: string } }>(["restart", "edit"]);
    assert.deepEqual([restarted.droppedState, restarted.status.bootKind], [true, "cold"]);
    assert.match(await home.ok(["exec", "edit", "--", "grep", "MemTotal", "/proc/meminfo"]), /MemTotal:\s+2[6-9]\d\d\d\d kB/);
    await home.ok(["delete", "--force", "edit"]);
  });

  test("SIGTERM to the agent saves or shuts down per saveOnStop, which the API changes at run time", async () => {
    await home.ok(["create", "sig", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "sig"]);
    const agent = (await home.json<Info>(["info", "sig"])).agentPid ?? 0;
    process.kill(agent, "SIGTERM");
    await waitFor(async () => (await home.json<Info>(["info", "sig"])).state === "suspended", "a save on SIGTERM");

    await home.ok(["start", "sig"]);
    const set = await home.json<{ appliedLive: boolean }>(["config", "set", "sig", "saveOnStop=false"]);
    assert.equal(set.appliedLive, true);
    process.kill((await home.json<Info>(["info", "sig"])).agentPid ?? 0, "SIGTERM");
    await waitFor(async () => (await home.json<Info>(["info", "sig"])).state === "stopped", "a shutdown on SIGTERM");
    await home.ok(["delete", "sig"]);
  });

  test("anonymous memory saves through mapped-ram and restores intact", async () => {
    writeFileSync(join(home.dir, "anon.yaml"), "memory:\n  size: 256M\n  backing: anonymous\ndisk:\n  size: 1G\n");
    await home.ok(["create", "anon", "--from-file", join(home.dir, "anon.yaml")]);
    await home.ok(["start", "anon"]);
    const before = await dirty(home, "anon", 32);
    assert.equal((await home.json<{ action: string }>(["stop", "anon"])).action, "saved");
    assert.ok(existsSync(join(home.instanceDir("anon"), "suspend", "memory.state")));
    assert.equal((await home.json<StartJson>(["start", "anon"])).status.bootKind, "restore");
    assert.equal(await checksums(home, "anon"), before);
    await home.ok(["delete", "--force", "anon"]);
  });
});

describe("killing the agent at any step of a save or restore leaves an instance that starts", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  // Before the rename the dead agent's QEMU still runs the guest: the next start re-adopts it.
  const points: [string, "save" | "restore", "restore" | "adopted"][] = [
    ["save:after-stop", "save", "adopted"],
    ["migrate:polling", "save", "adopted"],
    ["save:before-rename", "save", "adopted"],
    ["save:after-rename", "save", "restore"],
    ["restore:before-cont", "restore", "restore"],
  ];
  for (const [point, during, expected] of points) {
    test(`killed at ${point}: the next start ${expected === "restore" ? "restores the good state" : "re-adopts the running guest"}`, async () => {
      const name = point.replace(/[^a-z]/g, "").slice(0, 20);
      await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
      const fault = { SNAPVM_FAULT_POINT: point };
      await home.ok(["start", name], during === "save" ? { env: fault } : {});
      const before = await dirty(home, name, 16);
      if (during === "save") {
        const stop = await home.run(["stop", name]);
        assert.notEqual(stop.code, 0, "the agent died mid-save");
      } else {
        await home.ok(["stop", name]);
        const start = await home.run(["start", name], { env: fault });
        assert.notEqual(start.code, 0, "the agent died mid-restore");
      }
      const next = await home.json<StartJson>(["start", name]);
      if (expected === "restore") assert.equal(next.status.bootKind, "restore", `notices: ${next.notices.join("; ")}`);
      else assert.match(next.notices.join("; "), /re-adopted the running VM/);
      assert.equal(await checksums(home, name), before);
      assert.equal(home.qemuPids().length, 1, "the dead agent's QEMU was reaped");
      await home.ok(["delete", "--force", name]);
    });
  }
});
