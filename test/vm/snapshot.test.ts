import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestHome } from "./harness.ts";

interface SnapshotJson {
  tag: string;
  pauseMs: number;
  memoryCopy: string;
}
interface ListEntry {
  instance: string;
  tag: string;
  parent: string | null;
  hasMemory: boolean;
  allocatedBytes: number;
  apparentBytes: number;
}
interface ForkJson {
  forks: { name: string; started?: { status: { bootKind: string } } }[];
}
interface Info {
  state: string;
}

function digest(paths: string[]): string {
  const hash = createHash("sha256");
  for (const path of paths) hash.update(readFileSync(path));
  return hash.digest("hex");
}

describe("snapshots", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("create, list, info, restore while running, restore while stopped, delete", async () => {
    await home.ok(["create", "snap", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "snap"]);
    const v1 = await home.ok([
      "exec",
      "snap",
      "--",
      "dd if=/dev/urandom of=/tmp/m bs=1M count=16 2>/dev/null; echo one > /mnt/data/f; sync; md5sum /tmp/m; cat /mnt/data/f",
    ]);
    const s1 = await home.json<SnapshotJson>(["snapshot", "create", "snap", "one"]);
    assert.equal(s1.tag, "one");
    assert.ok(s1.pauseMs > 0);
    await home.ok(["exec", "snap", "--", "rm /tmp/m; echo two > /mnt/data/f; sync"]);
    await home.ok(["snapshot", "create", "snap", "two"]);

    const list = await home.json<ListEntry[]>(["snapshot", "list", "snap"]);
    assert.deepEqual(
      list.map((s) => [s.tag, s.parent, s.hasMemory]),
      [
        ["one", null, true],
        ["two", "one", true],
      ],
    );
    assert.ok(
      list.every((s) => s.allocatedBytes < s.apparentBytes),
      "RAM copies stay sparse",
    );
    const info = await home.json<{ manifest: { formatVersion: string; kind: string } }>(["snapshot", "info", "snap", "one"]);
    assert.deepEqual([info.manifest.formatVersion, info.manifest.kind], ["1.1.0", "snapshot"]);

    const restored = await home.json<{ started?: { status: { bootKind: string } } }>(["snapshot", "restore", "snap", "one"]);
    assert.equal(restored.started?.status.bootKind, "restore", "a running instance comes back running");
    assert.equal(await home.ok(["exec", "snap", "--", "md5sum /tmp/m; cat /mnt/data/f"]), v1);

    await home.ok(["stop", "--no-save", "snap"]);
    const offline = await home.json<{ started?: unknown }>(["snapshot", "restore", "snap", "two"]);
    assert.equal(offline.started, undefined);
    assert.equal((await home.json<Info>(["info", "snap"])).state, "suspended");
    await home.ok(["start", "snap"]);
    assert.equal(await home.ok(["exec", "snap", "--", "cat /mnt/data/f; test -e /tmp/m || echo gone"]), "two\ngone\n");

    // Deleting the first snapshot merges its disk layer into what depends on it; "two" still restores.
    await home.ok(["stop", "--no-save", "snap"]);
    const deleted = await home.json<{ diskLayer: string }>(["snapshot", "delete", "snap", "one"]);
    assert.equal(deleted.diskLayer, "merged");
    await home.ok(["snapshot", "restore", "snap", "two"]);
    await home.ok(["start", "snap"]);
    assert.equal(await home.ok(["exec", "snap", "--", "cat", "/mnt/data/f"]), "two\n");
    await home.ok(["delete", "--force", "snap"]);
  });

  test("a live snapshot of a guest writing memory and disk restores both consistent", async () => {
    await home.ok(["create", "busy", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "busy"]);
    await home.ok([
      "exec",
      "busy",
      "--",
      "sh -c 'echo $$ > /tmp/writer.pid; i=0; while :; do i=$((i+1)); echo $i > /mnt/data/c.new; mv /mnt/data/c.new /mnt/data/counter; echo $i > /tmp/c.new; mv /tmp/c.new /tmp/counter; done' >/dev/null 2>&1 </dev/null & echo started",
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    await home.ok(["snapshot", "create", "busy", "mid"]);
    await home.ok(["snapshot", "restore", "busy", "mid"]);
    const [memory, disk] = (
      await home.ok([
        "exec",
        "busy",
        "--",
        "kill $(cat /tmp/writer.pid); sleep 0.2; cat /tmp/counter; sync; echo 3 > /proc/sys/vm/drop_caches; cat /mnt/data/counter",
      ])
    )
      .trim()
      .split("\n")
      .map(Number);
    assert.ok(memory !== undefined && disk !== undefined && memory > 0, `counters ${String(memory)} ${String(disk)}`);
    // The writer replaces the disk file, then the memory one (each by rename, so never half-written):
    // at any instant the disk is at the memory's count or one ahead.
    assert.ok(disk === memory || disk === memory + 1, `disk ${disk} and memory ${memory} counters agree`);
    await home.ok(["delete", "--force", "busy"]);
  });

  test("a failing leg leaves the guest running and no partial snapshot", async () => {
    await home.ok(["create", "fail", "--memory", "256M", "--disk", "1G"]);
    for (const point of ["snapshot:memory-leg", "snapshot:disk-leg"]) {
      await home.ok(["start", "fail"], { env: { SNAPVM_FAIL_POINT: point } });
      await home.ok(["exec", "fail", "--", "echo before > /mnt/data/f; sync"]);
      const result = await home.run(["snapshot", "create", "fail", "broken"]);
      assert.equal(result.code, 1, point);
      assert.match(result.stderr, /snapshot "broken" failed; the guest was resumed and no snapshot was written.*\[E_SAVE_FAILED\]/s, point);
      assert.equal(await home.ok(["exec", "fail", "--", "cat /mnt/data/f; echo after > /mnt/data/g; sync; cat /mnt/data/g"]), "before\nafter\n", point);
      assert.deepEqual(await home.json<ListEntry[]>(["snapshot", "list", "fail"]), [], point);
      const dir = join(home.instanceDir("fail"), "snapshots");
      assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], [], `${point}: no temp directory left`);
      await home.ok(["stop", "--no-save", "fail"]);
    }
    await home.ok(["delete", "fail"]);
  });

  test("a suspended instance is snapshotted offline with its memory", async () => {
    await home.ok(["create", "off", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "off"]);
    const sum = await home.ok(["exec", "off", "--", "dd if=/dev/urandom of=/tmp/m bs=1M count=8 2>/dev/null; md5sum /tmp/m"]);
    await home.ok(["stop", "off"]);
    const snap = await home.json<SnapshotJson>(["snapshot", "create", "off", "sleeping"]);
    assert.equal(snap.pauseMs, 0);
    assert.equal(await home.ok(["exec", "off", "--", "true"]).catch(() => "refused"), "refused");
    await home.ok(["start", "off"]);
    await home.ok(["exec", "off", "--", "rm /tmp/m"]);
    await home.ok(["snapshot", "restore", "off", "sleeping"]);
    assert.equal(await home.ok(["exec", "off", "--", "md5sum /tmp/m"]), sum);
    await home.ok(["delete", "--force", "off"]);
  });
});

describe("forks", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("four forks resume from one snapshot, each independent with its own identity; the snapshot never changes", async () => {
    await home.ok(["create", "tpl", "--memory", "256M", "--disk", "1G", "--port", "18080:80"]);
    await home.ok(["start", "tpl"]);
    // The template's clock an hour behind: a fork that answers with the host's time had it set.
    await home.ok([
      "exec",
      "tpl",
      "--",
      `echo template > /tmp/who; echo template > /mnt/data/who; sync; date -u -s @${Math.round(Date.now() / 1000) - 3600} >/dev/null`,
    ]);
    await home.ok(["snapshot", "create", "tpl", "base"]);
    const snapDir = join(home.instanceDir("tpl"), "snapshots", "base");
    const before = digest([join(snapDir, "memory.ram"), join(snapDir, "devices.state")]);

    const forked = await home.json<ForkJson>(["fork", "tpl@base", "web", "--count", "4"]);
    assert.deepEqual(
      forked.forks.map((f) => [f.name, f.started?.status.bootKind]),
      [1, 2, 3, 4].map((i) => [`web-${i}`, "restore"]),
    );
    for (let i = 1; i <= 4; i++) {
      const name = `web-${i}`;
      assert.equal(await home.ok(["exec", name, "--", "cat /tmp/who /mnt/data/who; hostname"]), `template\ntemplate\n${name}\n`);
      const skewS = Number(await home.ok(["exec", name, "--", "date -u +%s"])) - Date.now() / 1000;
      assert.ok(Math.abs(skewS) < 60, `${name}'s clock is ${skewS.toFixed(0)} s off the host's`);
      await home.ok(["exec", name, "--", `echo ${name} > /tmp/who; echo ${name} > /mnt/data/who; sync`]);
    }
    const macs = new Set<string>();
    for (let i = 1; i <= 4; i++) {
      const name = `web-${i}`;
      assert.equal(await home.ok(["exec", name, "--", "cat /tmp/who /mnt/data/who"]), `${name}\n${name}\n`, "writes stay in their fork");
      assert.match(await home.ok(["exec", name, "--", "dmesg"]), /crng reseeded due to virtual machine fork/);
      macs.add(await home.ok(["exec", name, "--", "cat /sys/class/net/eth0/address"]));
    }
    assert.equal(macs.size, 4, "each fork has its own MAC");
    const ports = (await home.json<{ config: { ports: { host: number }[] } }[]>(["list"])).length;
    assert.equal(ports, 5);
    assert.equal(await home.ok(["exec", "tpl", "--", "cat /tmp/who"]), "template\n", "the template is untouched");
    assert.equal(digest([join(snapDir, "memory.ram"), join(snapDir, "devices.state")]), before, "the snapshot never changes");

    const refused = await home.run(["snapshot", "delete", "tpl", "base"]);
    assert.match(refused.stderr, /snapshot "base" of "tpl" is the base of forks "web-1", "web-2", "web-3", "web-4".*\[E_INVALID_TRANSITION\]/s);

    // A fork is an ordinary instance: it suspends and resumes.
    await home.ok(["stop", "web-1"]);
    assert.equal((await home.json<{ status: { bootKind: string } }>(["start", "web-1"])).status.bootKind, "restore");
    assert.equal(await home.ok(["exec", "web-1", "--", "cat /tmp/who"]), "web-1\n");
    for (let i = 1; i <= 4; i++) await home.ok(["delete", "--force", `web-${i}`]);
    await home.ok(["snapshot", "delete", "tpl", "base"]);
    await home.ok(["delete", "--force", "tpl"]);
  });
});
