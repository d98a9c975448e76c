import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeBackWhileIncoming } from "./ram-writeback.ts";

describe("writeBackWhileIncoming", () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-ram-writeback-"));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the file back until stopped, then ends without touching its content", async () => {
    const path = join(dir, "memory.ram");
    writeFileSync(path, Buffer.alloc(8192, 7));
    const writeback = writeBackWhileIncoming(path);
    await new Promise((resolve) => setTimeout(resolve, 250));
    writeback.stop();
    await writeback.done;
    assert.deepEqual(readFileSync(path), Buffer.alloc(8192, 7));
  });

  it("ends at once, without an error, when the file is not there", async () => {
    const writeback = writeBackWhileIncoming(join(dir, "missing.ram"));
    await writeback.done;
    writeback.stop();
  });
});
