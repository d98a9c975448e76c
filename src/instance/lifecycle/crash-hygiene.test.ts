import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diskLinkTempPath, instanceDeleteDir, instancePaths, parseInstanceName, parseSnapshotTag, snapshotTempDir, suspendTempDir } from "../../paths/index.ts";
import { cleanUpAfterCrash, removeStaleInstanceTemps, writerPid } from "./crash-hygiene.ts";

/** A pid that is certainly dead: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

test("writerPid reads the pid of every temp name, a hex suffix included", () => {
  assert.equal(writerPid(".web.tmp-123-ab12cd34", [".tmp"]), 123);
  assert.equal(writerPid(".web.tmp-123-12345678", [".tmp"]), 123);
  assert.equal(writerPid("suspend.tmp-77", [".tmp"]), 77);
  assert.equal(writerPid(".web.import-9", [".tmp", ".import"]), 9);
  assert.equal(writerPid(".web.delete-42", [".delete"]), 42);
  assert.equal(writerPid("web", [".tmp"]), undefined);
});

test("removeStaleInstanceTemps removes a dead writer's hidden dirs, of one name or all, and nothing else", async () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-hygiene-"));
  try {
    const dead = deadPid();
    for (const entry of [
      `.a-1.tmp-${dead}-ab12cd34`,
      `.a-2.tmp-${dead}-0000beef`,
      `.b.import-${dead}`,
      `.c.delete-${dead}`,
      `.a-1.tmp-${process.pid}-ffffffff`,
      "a-1",
      ".hidden",
    ]) {
      mkdirSync(join(dir, entry));
    }
    const one = await removeStaleInstanceTemps(dir, "a-1");
    assert.equal(one.length, 1);
    assert.ok(readdirSync(dir).includes(`.a-2.tmp-${dead}-0000beef`), "another name's is left to that name");
    await removeStaleInstanceTemps(dir);
    assert.deepEqual(readdirSync(dir).sort(), [`.a-1.tmp-${process.pid}-ffffffff`, ".hidden", "a-1"].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cleanUpAfterCrash removes every temp name src/paths makes for an instance, once its writer is dead", async () => {
  const home = mkdtempSync(join(tmpdir(), "snapvm-hygiene-"));
  try {
    const dead = deadPid();
    const name = parseInstanceName("a");
    const paths = instancePaths(name, home);
    mkdirSync(paths.snapshotsDir, { recursive: true });
    const temps = [instanceDeleteDir(name, home, dead), suspendTempDir(paths, dead), snapshotTempDir(paths, parseSnapshotTag("warm"), dead)];
    for (const dir of temps) mkdirSync(dir);
    const link = diskLinkTempPath(paths, dead);
    writeFileSync(link, "");
    const live = suspendTempDir(paths, process.pid);
    mkdirSync(live);
    const done = await cleanUpAfterCrash(paths, { processes: false });
    assert.equal(done.length, 4, done.join("\n"));
    for (const path of [...temps, link]) assert.ok(!existsSync(path), `${path} is removed`);
    assert.ok(existsSync(live), "a live writer's is kept");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
