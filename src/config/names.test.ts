import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { INSTANCE_NAME_MAX, isValidInstanceName, parseInstanceName } from "./names.ts";

describe("parseInstanceName", () => {
  it("accepts lowercase letters, digits and '-' starting with a letter, up to 32 characters", () => {
    for (const name of ["a", "dev", "dev-1", "a1-b2-", "x".repeat(INSTANCE_NAME_MAX)]) {
      assert.equal(parseInstanceName(name), name);
      assert.equal(isValidInstanceName(name), true);
    }
  });

  it("says what is wrong and what is allowed", () => {
    const cases: [string, string][] = [
      ["", `invalid instance name "": it is empty`],
      ["x".repeat(33), `invalid instance name "${"x".repeat(33)}": it is 33 characters long (at most 32)`],
      ["1dev", `invalid instance name "1dev": it must start with a lowercase letter`],
      ["-dev", `invalid instance name "-dev": it must start with a lowercase letter`],
      ["Dev", `invalid instance name "Dev": it must start with a lowercase letter`],
      ["dev_1", `invalid instance name "dev_1": "_" is not allowed (only lowercase letters, digits and '-')`],
      ["dev.1", `invalid instance name "dev.1": "." is not allowed (only lowercase letters, digits and '-')`],
      ["de/v", `invalid instance name "de/v": "/" is not allowed (only lowercase letters, digits and '-')`],
      ["devX", `invalid instance name "devX": "X" is not allowed (only lowercase letters, digits and '-')`],
      ["dév", `invalid instance name "dév": "é" is not allowed (only lowercase letters, digits and '-')`],
      ["a😀", `invalid instance name "a😀": "😀" is not allowed (only lowercase letters, digits and '-')`],
    ];
    for (const [name, message] of cases) {
      assert.equal(isValidInstanceName(name), false, name);
      assert.throws(
        () => parseInstanceName(name),
        (error) => {
          assert.ok(isSnapvmError(error, ErrorCode.InvalidName));
          assert.equal(error.message, message);
          assert.equal(error.hint, `Use 1 to 32 characters: lowercase letters, digits and '-', starting with a letter (e.g. "dev-1").`);
          assert.deepEqual(error.details, { name });
          return true;
        },
      );
    }
  });
});
