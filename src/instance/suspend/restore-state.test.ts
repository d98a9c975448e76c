import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instancePaths, parseInstanceName } from "../../paths/index.ts";
import { moveStateAside, stateWasResumed } from "./restore-state.ts";

function scratch(): { home: string; paths: ReturnType<typeof instancePaths> } {
  const home = mkdtempSync(join(tmpdir(), "snapvm-aside-"));
  const paths = instancePaths(parseInstanceName("vm"), home);
  mkdirSync(paths.suspendDir, { recursive: true });
  writeFileSync(join(paths.suspendDir, "manifest.json"), "{}");
  writeFileSync(paths.memory, "ram");
  return { home, paths };
}

test("a failed state is moved aside with its REASON and its RAM file", async () => {
  const { home, paths } = scratch();
  try {
    writeFileSync(paths.suspendResumed, "");
    assert.equal(stateWasResumed(paths), true);
    const target = await moveStateAside(paths, "the guest did not answer");
    assert.ok(target !== undefined);
    assert.equal(existsSync(paths.suspendDir), false);
    assert.equal(readFileSync(join(target, "REASON"), "utf8"), "the guest did not answer\n");
    assert.equal(readFileSync(join(target, "memory.ram"), "utf8"), "ram");
    assert.deepEqual(readdirSync(target).sort(), ["ASIDE.json", "REASON", "RESUMED", "manifest.json", "memory.ram"]);
    const facts = JSON.parse(readFileSync(join(target, "ASIDE.json"), "utf8")) as { movedAt: string; reason: string; diskTop: string | null };
    assert.equal(facts.reason, "the guest did not answer");
    assert.equal(facts.diskTop, null, "no disk link in this scratch instance");
    assert.ok(Math.abs(Date.parse(facts.movedAt) - Date.now()) < 60_000);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("withRam: false leaves the RAM file a running guest still uses", async () => {
  const { home, paths } = scratch();
  try {
    const target = await moveStateAside(paths, "adopted", { withRam: false });
    assert.ok(target !== undefined);
    assert.equal(readFileSync(paths.memory, "utf8"), "ram");
    assert.equal(existsSync(join(target, "memory.ram")), false);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("no state: nothing to move; an unexpected error throws and the state stays put", async () => {
  const { home, paths } = scratch();
  try {
    rmSync(paths.suspendDir, { recursive: true });
    assert.equal(await moveStateAside(paths, "x"), undefined);
    mkdirSync(paths.suspendDir);
    rmSync(paths.failedStatesDir, { recursive: true });
    writeFileSync(paths.failedStatesDir, "a file where the directory should be");
    await assert.rejects(moveStateAside(paths, "x"), /EEXIST|ENOTDIR/);
    assert.equal(existsSync(paths.suspendDir), true, "the state was not lost");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
