import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSnapvmError } from "../../errors/index.ts";
import { parseInstanceName } from "../../paths/index.ts";
import { buildNewInstance } from "./new-instance.ts";

describe("buildNewInstance", () => {
  let home: string;
  before(() => {
    home = join(mkdtempSync(join(tmpdir(), "snapvm-new-instance-")), "home");
  });
  after(() => {
    rmSync(join(home, ".."), { recursive: true, force: true });
  });
  const mode = (path: string): number => statSync(path).mode & 0o777;

  it("fills a temp sibling and renames it into place, private whatever the umask", async () => {
    const old = process.umask(0o022);
    try {
      const { paths, result } = await buildNewInstance(parseInstanceName("a"), home, async (temp, final) => {
        assert.notEqual(temp.dir, final.dir);
        assert.match(temp.dir, /\/instances\/\.a\.tmp-\d+-[0-9a-f]+$/);
        await writeFile(temp.config, "cpus: 1\n", { mode: 0o644 });
        await mkdir(temp.bootDir, { mode: 0o755 });
        await writeFile(temp.bootLaunch, "{}");
        return 42;
      });
      assert.equal(result, 42);
      assert.deepEqual(readdirSync(join(home, "instances")), ["a"]);
      assert.equal(mode(home), 0o700);
      assert.equal(mode(join(home, "instances")), 0o700);
      for (const path of [paths.dir, paths.bootDir]) assert.equal(mode(path), 0o700, path);
      for (const path of [paths.config, paths.bootLaunch]) assert.equal(mode(path), 0o600, path);
    } finally {
      process.umask(old);
    }
  });

  it("refuses a taken name, before filling or at the rename, and removes the temp dir on any failure", async () => {
    await assert.rejects(
      buildNewInstance(parseInstanceName("a"), home, () => Promise.resolve()),
      (e) => isSnapvmError(e, "E_INSTANCE_EXISTS"),
    );
    await assert.rejects(
      buildNewInstance(parseInstanceName("b"), home, async (temp) => {
        await writeFile(temp.config, "x");
        mkdirSync(join(home, "instances", "b"));
        writeFileSync(join(home, "instances", "b", "snapvm.yaml"), "taken meanwhile");
      }),
      (e) => isSnapvmError(e, "E_INSTANCE_EXISTS"),
    );
    await assert.rejects(
      buildNewInstance(parseInstanceName("c"), home, () => Promise.reject(new Error("fill failed"))),
      /fill failed/,
    );
    assert.deepEqual(readdirSync(join(home, "instances")).sort(), ["a", "b"]);
  });
});
