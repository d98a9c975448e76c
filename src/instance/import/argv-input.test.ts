import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../../errors/index.ts";
import { parseArgvJson, readSourceArgv } from "./argv-input.ts";

describe("import-state arguments", () => {
  it("reads a JSON array, or the argv of a launch.json object", () => {
    assert.deepEqual(parseArgvJson('["-m", "256M"]', "a.json"), ["-m", "256M"]);
    assert.deepEqual(parseArgvJson('{"spec": {}, "argv": ["-m", "256M"]}', "launch.json"), ["-m", "256M"]);
  });

  it("refuses anything else, naming the file", () => {
    for (const [text, pattern] of [
      ["[1, 2]", /a\.json is neither a JSON array of strings nor an object with an "argv" array/],
      ['{"args": []}', /a\.json is neither/],
      ["-m 256M", /a\.json is not valid JSON/],
    ] as const) {
      assert.throws(
        () => parseArgvJson(text, "a.json"),
        (e) => isSnapvmError(e, "E_INVALID_ARGUMENT") && pattern.test(e.message),
      );
    }
  });

  it("takes exactly one of --from-argv and --qemu-args", async () => {
    assert.deepEqual(await readSourceArgv({ qemuArgs: "-m 256M -append 'console=ttyS0 quiet'" }), ["-m", "256M", "-append", "console=ttyS0 quiet"]);
    for (const source of [{}, { argvFile: "a.json", qemuArgs: "-m 1M" }]) {
      await assert.rejects(
        readSourceArgv(source),
        (e) => isSnapvmError(e, "E_INVALID_ARGUMENT") && /exactly one of --from-argv and --qemu-args/.test(e.message),
      );
    }
    await assert.rejects(
      readSourceArgv({ argvFile: "/nonexistent/argv.json" }),
      (e) => isSnapvmError(e, "E_INVALID_ARGUMENT") && /does not exist/.test(e.message),
    );
  });
});
