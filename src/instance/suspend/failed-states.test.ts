import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instancePaths, parseInstanceName, type InstancePaths } from "../../paths/index.ts";
import { FAILED_STATE_MAX_AGE_MS, listFailedStates, moveStateAside, pruneFailedStates } from "./failed-states.ts";

const MANIFEST = JSON.stringify({
  files: [
    { name: "devices.state", role: "device-state" },
    { name: "../memory.ram", role: "memory" },
  ],
});

/** An instance with a disk link, a pinned boot at `bootedAt` and a suspend state with its RAM file. */
function scratch(bootedAt = "2000-01-01T00:00:00.000Z"): { home: string; paths: InstancePaths } {
  const home = mkdtempSync(join(tmpdir(), "snapvm-failed-"));
  const paths = instancePaths(parseInstanceName("vm"), home);
  mkdirSync(paths.disksDir, { recursive: true });
  mkdirSync(paths.bootDir);
  writeFileSync(join(paths.disksDir, "a.qcow2"), "");
  symlinkSync("disks/a.qcow2", paths.disk);
  writeFileSync(paths.bootLaunch, JSON.stringify({ bootedAt }));
  suspend(paths);
  return { home, paths };
}

function suspend(paths: InstancePaths): void {
  mkdirSync(paths.suspendDir);
  writeFileSync(join(paths.suspendDir, "manifest.json"), MANIFEST);
  writeFileSync(paths.memory, "ram");
}

test("a state moved aside with no boot and no disk change since is restorable", async () => {
  const { home, paths } = scratch();
  try {
    await moveStateAside(paths, 'instance "vm" cannot start: host port …');
    const [state, ...rest] = await listFailedStates(paths);
    assert.equal(rest.length, 0);
    assert.ok(state !== undefined);
    assert.deepEqual(state.restorable, { ok: true });
    assert.match(state.reason, /cannot start/);
    assert.ok(state.allocatedBytes > 0, "the RAM file went with it");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

/** Why the only failed state cannot be restored, or "ok". */
async function why(paths: InstancePaths): Promise<string> {
  const states = await listFailedStates(paths);
  assert.equal(states.length, 1);
  const restorable = states[0]?.restorable;
  return restorable === undefined || restorable.ok ? "ok" : restorable.why;
}

test("not restorable: booted since, disk moved to another layer, guest ran on it, RAM not kept", async () => {
  const { home, paths } = scratch();
  const again = (): void => {
    rmSync(paths.failedStatesDir, { recursive: true });
    suspend(paths);
  };
  try {
    await moveStateAside(paths, "booted since");
    writeFileSync(paths.bootLaunch, JSON.stringify({ bootedAt: new Date(Date.now() + 60_000).toISOString() }));
    assert.match(await why(paths), /^the instance booted since \(.*\), so its disk has moved on$/);
    writeFileSync(paths.bootLaunch, JSON.stringify({ bootedAt: "2000-01-01T00:00:00.000Z" }));
    assert.equal(await why(paths), "ok");

    again();
    await moveStateAside(paths, "disk changed");
    rmSync(paths.disk);
    symlinkSync("disks/b.qcow2", paths.disk);
    assert.equal(await why(paths), "the instance's disk changed since (a snapshot restore or a new disk layer)");
    rmSync(paths.disk);
    symlinkSync("disks/a.qcow2", paths.disk);

    again();
    writeFileSync(paths.suspendResumed, "");
    await moveStateAside(paths, "guest ran");
    assert.equal(await why(paths), "the guest ran after a restore of it (memory has moved on)");

    again();
    await moveStateAside(paths, "adopted", { withRam: false });
    assert.equal(await why(paths), "its RAM file was not kept with it (a re-adopted guest ran on it)");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a state kept by an older snapvm (REASON only) is read from its REASON and times", async () => {
  const { home, paths } = scratch();
  try {
    const old = join(paths.failedStatesDir, "2026-11-01T10-00-00.000Z");
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, "manifest.json"), JSON.stringify({ files: [] }));
    writeFileSync(join(old, "REASON"), "QEMU exited\n");
    const when = new Date("2026-11-01T10:00:00Z");
    utimesSync(join(old, "REASON"), when, when);
    mkdirSync(join(paths.failedStatesDir, "not a valid id"));
    const states = await listFailedStates(paths);
    assert.deepEqual(
      states.map((s) => [s.id, s.reason, s.movedAt, s.restorable.ok]),
      [["2026-11-01T10-00-00.000Z", "QEMU exited", "2026-11-01T10:00:00.000Z", true]],
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("prune removes states older than the limit (all with 0); moving one aside drops those past a week", async () => {
  const { home, paths } = scratch();
  try {
    const old = join(paths.failedStatesDir, "2020-01-01T00-00-00.000Z");
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, "ASIDE.json"), JSON.stringify({ movedAt: "2020-01-01T00:00:00.000Z", reason: "old", diskTop: null }));
    const recent = join(paths.failedStatesDir, "2020-01-06T00-00-00.000Z");
    mkdirSync(recent);
    writeFileSync(join(recent, "ASIDE.json"), JSON.stringify({ movedAt: "2020-01-06T00:00:00.000Z", reason: "recent", diskTop: null }));
    const removed = await pruneFailedStates(paths, { olderThanMs: 3 * 86_400_000, now: Date.parse("2020-01-07T00:00:00Z") });
    assert.deepEqual(
      removed.map((s) => s.reason),
      ["old"],
    );
    assert.equal(FAILED_STATE_MAX_AGE_MS, 7 * 86_400_000);
    await moveStateAside(paths, "new"); // "recent" is years past the week now
    assert.deepEqual(
      (await listFailedStates(paths)).map((s) => s.reason),
      ["new"],
    );
    assert.equal((await pruneFailedStates(paths, { olderThanMs: 0 })).length, 1);
    assert.deepEqual(await listFailedStates(paths), []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
