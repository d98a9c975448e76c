import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const bin = fileURLToPath(new URL("../../bin/snapvm.ts", import.meta.url));
const snapvm = (...args: string[]): string => {
  const result = spawnSync(process.execPath, ["--import", "tsx", bin, ...args], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
};

test("completion prints a script for each shell, and candidates come from the command tree", () => {
  assert.match(snapvm("completion", "bash"), /bash completion for snapvm/);
  assert.match(snapvm("completion", "zsh"), /compdef/);
  assert.match(snapvm("completion", "fish"), /complete -c snapvm/);
  const sub = snapvm("complete", "--", "snapshot", "c");
  assert.match(sub, /^create\t/m);
  assert.match(sub, /^compress\t/m);
  assert.match(snapvm("complete", "--", "create", "x", "--"), /^--memory\t/m);
});
