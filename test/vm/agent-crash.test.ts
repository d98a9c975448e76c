import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestHome } from "./harness.ts";

interface StartJson {
  status: { bootKind: string; state: string };
  notices: string[];
}

/** Fills guest memory (/dev/shm, tmpfs) with random data; returns its checksum. */
async function dirtyShm(home: TestHome, name: string, megabytes: number): Promise<string> {
  return home.ok(["exec", name, "--", `dd if=/dev/urandom of=/dev/shm/ram.bin bs=1M count=${megabytes} 2>/dev/null && md5sum /dev/shm/ram.bin`]);
}

function tempLeftovers(home: TestHome, name: string): string[] {
  const dirs = [join(home.dir, "instances"), home.instanceDir(name), join(home.instanceDir(name), "snapshots")];
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d) : []).filter((e) => /\.tmp-|\.import-|\.link-/.test(e)).map((e) => join(d, e)));
}

/**
 * kill -9 of the agent (SNAPVM_FAULT_POINT: the agent SIGKILLs itself there) at steps of a live
 * snapshot, a save and a restore: the next start re-adopts the running QEMU, the guest's memory is
 * intact, and no temp directory or helper QEMU is left.
 */
describe("an agent killed mid-operation never costs the running guest", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  const cases: [string, "snapshot" | "save"][] = [
    ["snapshot:before-pause", "snapshot"],
    ["precopy:copying", "snapshot"],
    ["snapshot:disk-switched", "snapshot"],
    ["save:after-stop", "save"],
  ];
  for (const [point, during] of cases) {
    test(`killed at ${point}: the next start re-adopts the guest with its memory`, async () => {
      const name = point.replace(/[^a-z]/g, "").slice(0, 20);
      await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
      await home.ok(["start", name], { env: { SNAPVM_FAULT_POINT: point } });
      const before = await dirtyShm(home, name, 32);
      const killed = await home.run(during === "snapshot" ? ["snapshot", "create", name, "s1"] : ["stop", name]);
      assert.notEqual(killed.code, 0, "the agent died mid-operation");
      const info = await home.json<{ state: string; note?: string }>(["info", name]);
      assert.equal(info.state, "running", `an orphaned QEMU shows as running: ${info.note ?? ""}`);
      const next = await home.json<StartJson>(["start", name]);
      assert.match(next.notices.join("; "), /re-adopted the running VM/);
      assert.equal(await home.ok(["exec", name, "--", "md5sum /dev/shm/ram.bin"]), before, "the guest's memory is intact");
      assert.deepEqual(tempLeftovers(home, name), []);
      assert.equal(home.qemuPids().length, 1, "no helper QEMU is left");
      // The adopted VM is served as any other: a live snapshot and a save work.
      await home.ok(["snapshot", "create", name, "s2"]);
      assert.equal((await home.json<{ action: string }>(["stop", name])).action, "saved");
      assert.equal((await home.json<StartJson>(["start", name])).status.bootKind, "restore");
      assert.equal(await home.ok(["exec", name, "--", "md5sum /dev/shm/ram.bin"]), before);
      await home.ok(["delete", "--force", name]);
      assert.equal(home.qemuPids().length, 0);
    });
  }

  test("killed after a restore resumed the guest: re-adopted, the state kept aside as moved on", async () => {
    const name = "afterresume";
    await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", name]);
    const before = await dirtyShm(home, name, 16);
    await home.ok(["stop", name]);
    const killed = await home.run(["start", name], { env: { SNAPVM_FAULT_POINT: "restore:after-cont" } });
    assert.notEqual(killed.code, 0);
    const next = await home.json<StartJson>(["start", name]);
    assert.match(next.notices.join("; "), /re-adopted/);
    assert.equal(await home.ok(["exec", name, "--", "md5sum /dev/shm/ram.bin"]), before);
    assert.equal(existsSync(join(home.instanceDir(name), "suspend")), false);
    const failed = readdirSync(join(home.instanceDir(name), "failed-states"));
    assert.equal(failed.length, 1);
    assert.match(readFileSync(join(home.instanceDir(name), "failed-states", failed[0] ?? "", "REASON"), "utf8"), /memory has moved on/);
    await home.ok(["delete", "--force", name]);
  });
});

describe("a saved state is never lost", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("a guest that does not answer after the restore: the state is kept in failed-states/ with the reason, then a cold boot", async () => {
    const name = "noanswer";
    await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", name]);
    await home.ok(["stop", name]);
    const started = JSON.parse(await home.ok(["start", name, "--json"], { env: { SNAPVM_FAIL_POINT: "restore:guest-ready" } })) as StartJson;
    assert.equal(started.status.bootKind, "cold");
    assert.match(started.notices.join("; "), /restore failed.*state kept in/);
    const failedDir = join(home.instanceDir(name), "failed-states");
    const [kept] = readdirSync(failedDir);
    assert.ok(kept !== undefined, "the state was kept");
    const reason = readFileSync(join(failedDir, kept, "REASON"), "utf8");
    assert.match(reason, /injected failure at restore:guest-ready/);
    assert.match(reason, /the guest ran after the restore; memory has moved on/);
    assert.ok(existsSync(join(failedDir, kept, "manifest.json")) && existsSync(join(failedDir, kept, "devices.state")));
    assert.ok(existsSync(join(failedDir, kept, "memory.ram")), "with its RAM file");
    await home.ok(["delete", "--force", name]);
  });
});
