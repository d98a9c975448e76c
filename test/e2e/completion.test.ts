import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, FakeHome } from "./harness.ts";

const BASH_COMPLETION = "/usr/share/bash-completion/bash_completion";

/**
 * The script `snapvm completion bash` prints, sourced into a real bash with Debian's bash-completion,
 * asked as a TAB press would ask (COMP_WORDS/COMP_CWORD, then the function the script registered).
 */
describe("snapvm completion bash in a real bash", () => {
  let h: FakeHome;
  let bin: string;
  before(() => {
    h = new FakeHome();
    h.addInstance("alpha");
    h.addInstance("beta");
    h.addSnapshot("alpha", "warm");
    h.addSnapshot("alpha", "cold");
    // A temp directory of an unfinished snapshot and a stray entry that is not a name: never offered.
    mkdirSync(join(h.instanceDir("alpha"), "snapshots", ".tmp-warm-1"));
    mkdirSync(join(h.home, "instances", "Not_A_Name"));
    bin = join(h.root, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "snapvm"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, "snapvm"), 0o755);
  });
  after(() => {
    h.cleanup();
  });

  function complete(line: string): string[] {
    const script = [
      `source ${BASH_COMPLETION}`,
      "source <(snapvm completion bash)",
      `COMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}`,
      'read -ra COMP_WORDS <<< "$COMP_LINE"',
      '[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")',
      "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
      '"$(complete -p snapvm | sed -E "s/.*-F ([^ ]+) .*/\\1/")"',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join("\n");
    const result = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, SNAPVM_HOME: h.home },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split("\n").filter((word) => word !== "");
  }

  test("commands, subcommands and flags", () => {
    assert.deepEqual(complete("snapvm sn"), ["snapshot"]);
    assert.ok(complete("snapvm snapshot ").includes("restore"));
    assert.deepEqual(complete("snapvm create x --mem"), ["--memory"]);
  });

  test("the instances that exist where an existing one is meant, none where a new one is", () => {
    assert.deepEqual(complete("snapvm start "), ["alpha", "beta"]);
    assert.deepEqual(complete("snapvm info b"), ["beta"]);
    assert.deepEqual(complete("snapvm create "), []);
  });

  test("the instance's snapshot tags, and NAME@TAG for fork", () => {
    assert.deepEqual(complete("snapvm snapshot restore alpha "), ["cold", "warm"]);
    assert.deepEqual(complete("snapvm snapshot restore alpha w"), ["warm"]);
    assert.deepEqual(complete("snapvm snapshot restore beta "), []);
    assert.deepEqual(complete("snapvm snapshot create alpha "), []);
    assert.deepEqual(complete("snapvm fork "), ["alpha@cold", "alpha@warm"]);
  });
});
