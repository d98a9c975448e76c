import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { isSnapvmError } from "../errors/index.ts";
import { detectCompression, withRawStream } from "./stream-compression.ts";

describe("stream compression", () => {
  let dir: string;
  const raw = Buffer.concat([Buffer.from("QEVM"), Buffer.from([0, 0, 0, 3]), Buffer.alloc(100_000, 7)]);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "snapvm-compression-test-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("detects gzip and zstd by magic; anything else is left to the decoder", async () => {
    writeFileSync(join(dir, "s.raw"), raw);
    writeFileSync(join(dir, "s.gz"), gzipSync(raw));
    writeFileSync(join(dir, "tiny"), "x");
    assert.equal(await detectCompression(join(dir, "s.raw")), "none");
    assert.equal(await detectCompression(join(dir, "s.gz")), "gzip");
    assert.equal(await detectCompression(join(dir, "tiny")), "none");
  });

  it("hands the raw stream over and removes the temp copy afterwards", async () => {
    const inputs = ["s.raw", "s.gz"];
    if (existsSync("/usr/bin/zstd")) {
      execFileSync("zstd", ["-q", "-f", join(dir, "s.raw"), "-o", join(dir, "s.zst")]);
      inputs.push("s.zst");
    }
    const work = mkdtempSync(join(dir, "work-"));
    for (const input of inputs) {
      const seen = await withRawStream(
        join(dir, input),
        work,
        (path, compression) => Promise.resolve({ bytes: readFileSync(path), compression, inPlace: path === join(dir, input) }),
        { maxBytes: raw.length, reason: "test" },
      );
      assert.deepEqual(seen.bytes, raw, input);
      assert.equal(seen.inPlace, input === "s.raw", input);
      assert.equal(seen.compression, input === "s.raw" ? "none" : input === "s.gz" ? "gzip" : "zstd");
    }
    assert.deepEqual(readdirSync(work), [], "temp copies removed");
  });

  it("names a truncated gzip file as damaged", async () => {
    const gz = gzipSync(raw);
    writeFileSync(join(dir, "cut.gz"), gz.subarray(0, gz.length - 20));
    await assert.rejects(
      withRawStream(join(dir, "cut.gz"), dir, () => Promise.resolve(), { maxBytes: 2 ** 30, reason: "test" }),
      (e) => isSnapvmError(e, "E_STATE_INVALID") && /cut\.gz: the gzip data is damaged or truncated/.test(e.message),
    );
  });

  /**
   * A bomb: one frame of 64 MiB of zeros, concatenated 32 times (both formats allow it), is 2 GiB of
   * output from a few KiB. With a 10 MiB bound the copy must never grow past 10 MiB, the error must
   * name the bound, and nothing may be left in the temp directory.
   */
  for (const kind of ["gzip", "zstd"] as const) {
    it(`stops a ${kind} bomb at the bound, leaving nothing behind`, { skip: kind === "zstd" && !existsSync("/usr/bin/zstd") }, async () => {
      const frame =
        kind === "gzip"
          ? gzipSync(Buffer.alloc(64 * 2 ** 20), { level: 1 })
          : execFileSync("zstd", ["-q", "-c", "-1"], { input: Buffer.alloc(64 * 2 ** 20), maxBuffer: 2 ** 24 });
      const bomb = join(dir, `bomb.${kind}`);
      writeFileSync(bomb, Buffer.concat(Array.from({ length: 32 }, () => frame)));
      const work = mkdtempSync(join(dir, "bomb-work-"));
      const bound = 10 * 2 ** 20;
      let largest = 0;
      const watch = setInterval(() => {
        for (const sub of readdirSync(work)) {
          for (const file of readdirSync(join(work, sub))) {
            try {
              largest = Math.max(largest, statSync(join(work, sub, file)).size);
            } catch {
              /* removed meanwhile */
            }
          }
        }
      }, 2);
      let used = false;
      try {
        await assert.rejects(
          withRawStream(
            bomb,
            work,
            () => {
              used = true;
              return Promise.resolve();
            },
            { maxBytes: bound, reason: "the test's bound" },
          ),
          (e) => isSnapvmError(e, "E_INPUT_TOO_LARGE") && e.message === `${bomb} decompresses to more than 10M (the test's bound); stopped there`,
        );
      } finally {
        clearInterval(watch);
      }
      assert.equal(used, false);
      assert.ok(largest <= bound, `the copy grew to ${largest} bytes`);
      assert.deepEqual(readdirSync(work), [], "no temp copy left");
    });
  }
});
