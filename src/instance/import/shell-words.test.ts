import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isSnapvmError } from "../../errors/index.ts";
import { splitShellWords } from "./shell-words.ts";

describe("splitShellWords", () => {
  it("splits on blanks and keeps quoted text whole", () => {
    assert.deepEqual(splitShellWords("  qemu-system-x86_64 -m 256M\t-append 'console=ttyS0 panic=-1 quiet'\n-name \"snapvm-a b\" "), [
      "qemu-system-x86_64",
      "-m",
      "256M",
      "-append",
      "console=ttyS0 panic=-1 quiet",
      "-name",
      "snapvm-a b",
    ]);
  });

  it("handles escapes, adjacent quotes, empty words and line continuations", () => {
    assert.deepEqual(splitShellWords(`a\\ b 'it'"'"'s' "q\\"x\\\\" '' x\\\ny "$HOME"`), ["a b", "it's", 'q"x\\', "", "xy", "$HOME"]);
  });

  it("refuses unterminated quotes and a trailing backslash", () => {
    for (const text of ["-append 'console", '-name "x', "x \\"]) {
      assert.throws(
        () => splitShellWords(text),
        (e) => isSnapvmError(e, "E_INVALID_ARGUMENT") && /--qemu-args ends with/.test(e.message),
      );
    }
  });
});
