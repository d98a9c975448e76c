import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installImage } from "./install.ts";

test("installs a staged image, replacing the old one into the graveyard", async () => {
  const root = await mkdtemp(join(tmpdir(), "snapvm-install-test-"));
  try {
    const target = join(root, "tiny");
    for (const [dir, content] of [
      ["staged1", "one"],
      ["staged2", "two"],
    ] as const) {
      await mkdir(join(root, dir));
      await writeFile(join(root, dir, "image.json"), content);
    }
    assert.equal(await installImage(join(root, "staged1"), target, join(root, "old1")), true);
    assert.equal(await readFile(join(target, "image.json"), "utf8"), "one");
    assert.equal(await installImage(join(root, "staged2"), target, join(root, "old2")), true);
    assert.equal(await readFile(join(target, "image.json"), "utf8"), "two");
    assert.equal(await readFile(join(root, "old2", "image.json"), "utf8"), "one");
    assert.deepEqual((await readdir(root)).sort(), ["old2", "tiny"]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
