import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { checkSize, formatSize, GiB, KiB, MiB, parseSize, TiB } from "./sizes.ts";

describe("parseSize", () => {
  it("accepts bytes and every binary unit in any case", () => {
    const cases: [string, number][] = [
      ["0", 0],
      ["1", 1],
      ["1073741824", GiB],
      ["512B", 512],
      ["1k", KiB],
      ["1K", KiB],
      ["512M", 512 * MiB],
      ["512m", 512 * MiB],
      ["2G", 2 * GiB],
      ["1T", TiB],
      ["1KiB", KiB],
      ["64MiB", 64 * MiB],
      ["64mib", 64 * MiB],
      ["64MIB", 64 * MiB],
      ["3GiB", 3 * GiB],
      ["1TiB", TiB],
      ["512 M", 512 * MiB],
      ["0512M", 512 * MiB],
    ];
    for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
  });

  it("refuses other spellings with a reason", () => {
    const cases: [string, string][] = [
      ["", "a size must not be empty"],
      [" ", "a size must not be empty"],
      ["512MB", `"512MB" is ambiguous; write "512M" or "512MiB" (sizes are binary: 1M = 1024K)`],
      ["1kb", `"1kb" is ambiguous; write "1K" or "1KiB" (sizes are binary: 1K = 1024 bytes)`],
      ["1.5G", `"1.5G" is not a whole number; use a smaller unit, e.g. "1536M" instead of "1.5G"`],
      ["-1G", `"-1G" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`],
      ["G", `"G" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`],
      ["1P", `"1P" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`],
      ["1  M", `"1  M" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`],
      [" 1M", `" 1M" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`],
      ["1Mi", `"1Mi" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`],
      ["99999999999999999999", `"99999999999999999999" is too large`],
      ["9000T", `"9000T" is too large`],
    ];
    for (const [text, reason] of cases) {
      assert.deepEqual(checkSize(text), { ok: false, reason }, text);
      assert.throws(
        () => parseSize(text),
        (error) => isSnapvmError(error, ErrorCode.InvalidArgument) && error.message === `invalid size: ${reason}` && error.hint !== undefined,
        text,
      );
    }
  });
});

describe("formatSize", () => {
  it("uses the largest exact unit", () => {
    assert.equal(formatSize(0), "0");
    assert.equal(formatSize(1000), "1000");
    assert.equal(formatSize(KiB), "1K");
    assert.equal(formatSize(536870912), "512M");
    assert.equal(formatSize(GiB), "1G");
    assert.equal(formatSize(1536 * MiB), "1536M");
    assert.equal(formatSize(MiB + KiB), "1025K");
    assert.equal(formatSize(2 * TiB), "2T");
  });

  it("round-trips through parseSize", () => {
    for (const bytes of [0, 1, 511, 4096, 64 * MiB, 3 * GiB + 512, TiB, Number.MAX_SAFE_INTEGER]) {
      assert.equal(parseSize(formatSize(bytes)), bytes);
    }
  });

  it("refuses what is not a byte count (a bug, so a plain RangeError)", () => {
    for (const bytes of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => formatSize(bytes), RangeError);
  });
});
