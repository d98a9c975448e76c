import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { shellQuote } from "./shell-quote.ts";

test("quoted argv survives sh -c unchanged", () => {
  const args = ["printf", "%s|", "plain", "with space", "it's", "$HOME", "`x`", "", "a\nb", "*"];
  const out = execFileSync("sh", ["-c", shellQuote(args)], { encoding: "utf8" });
  assert.equal(out, "plain|with space|it's|$HOME|`x`||a\nb|*|");
});
