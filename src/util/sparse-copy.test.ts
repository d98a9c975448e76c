import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, writeSync, closeSync, ftruncateSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copySparse } from "./sparse-copy.ts";

test("a sparse file keeps its holes and its bytes through copySparse", async () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-sparse-"));
  try {
    const source = join(dir, "ram");
    const fd = openSync(source, "w");
    ftruncateSync(fd, 64 * 1024 * 1024);
    writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 10 * 1024 * 1024);
    closeSync(fd);
    await copySparse(source, join(dir, "copy"));
    const copy = statSync(join(dir, "copy"));
    assert.equal(copy.size, 64 * 1024 * 1024);
    assert.ok(copy.blocks * 512 <= 1024 * 1024, `the copy allocated ${copy.blocks * 512} bytes`);
    assert.ok(readFileSync(join(dir, "copy")).equals(readFileSync(source)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
