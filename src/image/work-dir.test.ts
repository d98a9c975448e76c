import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { makeWorkDir, removeStaleWorkDirs } from "./work-dir.ts";

test("stale build directories of dead processes are removed, live ones and others kept", async () => {
  const images = await mkdtemp(join(tmpdir(), "snapvm-workdir-test-"));
  try {
    const mine = await makeWorkDir(images);
    assert.match(basename(mine), new RegExp(`^\\.tiny\\.build-${process.pid}-`));
    for (const name of [".tiny.build-999999-abc", "tiny", "cache"]) await mkdir(join(images, name));
    const removed = await removeStaleWorkDirs(images, (pid) => pid === process.pid);
    assert.deepEqual(removed, [".tiny.build-999999-abc"]);
    assert.deepEqual((await readdir(images)).sort(), [basename(mine), "cache", "tiny"].sort());
  } finally {
    await rm(images, { recursive: true, force: true });
  }
});
