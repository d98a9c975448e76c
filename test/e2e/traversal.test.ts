import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeHome, inBatches, jsonError, type CliResult } from "./harness.ts";

/** Names that must never reach a path: traversal, separators, hidden entries, capitals, too long. */
const BAD_NAMES = ["../x", "a/b", "..", ".hidden", "A", "x".repeat(40)];
/** Tags likewise ("A" is a valid tag). */
const BAD_TAGS = ["../x", "a/b", "..", ".hidden", "t".repeat(70), "../../../../victim"];

/** Every command that takes an instance name, with the name in place of N (`good` is a real instance, `warm` its snapshot). */
const NAME_COMMANDS: { args: (n: string) => string[]; json: boolean }[] = [
  { args: (n) => ["create", n], json: true },
  { args: (n) => ["start", n], json: true },
  { args: (n) => ["stop", n], json: true },
  { args: (n) => ["stop", n, "--force"], json: true },
  { args: (n) => ["save", n], json: true },
  { args: (n) => ["restart", n], json: true },
  { args: (n) => ["exec", n, "true"], json: true },
  { args: (n) => ["shell", n], json: false },
  { args: (n) => ["info", n], json: true },
  { args: (n) => ["logs", n], json: false },
  { args: (n) => ["logs", n, "--agent", "-f"], json: false },
  { args: (n) => ["delete", n], json: true },
  { args: (n) => ["delete", n, "--force"], json: true },
  { args: (n) => ["config", "set", n, "cpus=2"], json: true },
  { args: (n) => ["snapshot", "create", n, "t1"], json: true },
  { args: (n) => ["snapshot", "list", n], json: true },
  { args: (n) => ["snapshot", "info", n, "warm"], json: true },
  { args: (n) => ["snapshot", "restore", n, "warm"], json: true },
  { args: (n) => ["snapshot", "delete", n, "warm"], json: true },
  { args: (n) => ["snapshot", "compress", n, "warm"], json: true },
  { args: (n) => ["snapshot", "decompress", n, "warm"], json: true },
  { args: (n) => ["snapshot", "inspect", n, "warm"], json: true },
  { args: (n) => ["fork", `${n}@warm`, "new"], json: true },
  { args: (n) => ["fork", "good@warm", n], json: true },
  { args: (n) => ["fork", "good@warm", n, "--count", "2"], json: true },
  { args: (n) => ["import-state", "STATE", n], json: true },
];

/** Every command that takes a snapshot tag, with the tag in place of T. */
const TAG_COMMANDS: ((t: string) => string[])[] = [
  (t) => ["snapshot", "create", "good", t],
  (t) => ["snapshot", "info", "good", t],
  (t) => ["snapshot", "restore", "good", t],
  (t) => ["snapshot", "delete", "good", t],
  (t) => ["snapshot", "compress", "good", t],
  (t) => ["snapshot", "decompress", "good", t],
  (t) => ["snapshot", "inspect", "good", t],
  (t) => ["fork", `good@${t}`, "new"],
];

function assertInvalidName(args: string[], r: CliResult, json: boolean): void {
  const what = `snapvm ${args.join(" ")}: ${r.stderr}${r.stdout}`;
  assert.equal(r.code, 1, what);
  if (json) {
    assert.equal(jsonError(r.stdout).code, "E_INVALID_NAME", what);
  } else {
    assert.match(r.stderr, /^snapvm: invalid (instance name|snapshot tag) .*\[E_INVALID_NAME\]\n {2}hint: .*\n$/, what);
  }
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, what);
}

describe("every command answers a bad name or tag with E_INVALID_NAME and touches nothing", () => {
  let h: FakeHome;
  let before_: string[];
  before(() => {
    h = new FakeHome();
    h.addInstance("good");
    h.addSnapshot("good", "warm");
    writeFileSync(join(h.root, "STATE"), "not a stream");
    before_ = h.tree();
  });
  after(() => {
    h.cleanup();
  });

  test("bad instance names", async () => {
    // Each command with each name once (~200 CLI runs in all): with --json every other time, so both
    // outputs are checked for every command and every name without doubling the run time.
    const cases = BAD_NAMES.flatMap((name, n) =>
      NAME_COMMANDS.map(({ args, json }, c) =>
        json && (n + c) % 2 === 0 ? { args: [...args(name), "--json"], json: true } : { args: args(name), json: false },
      ),
    );
    const results = await inBatches(cases.map((c) => () => h.run(c.args.map((a) => (a === "STATE" ? join(h.root, "STATE") : a)))));
    cases.forEach((c, i) => {
      const r = results[i];
      assert.ok(r !== undefined);
      assertInvalidName(c.args, r, c.json);
    });
    assert.deepEqual(h.tree(), before_, "nothing created or removed inside or outside the home");
  });

  test("bad snapshot tags", async () => {
    const cases = BAD_TAGS.flatMap((tag, t) =>
      TAG_COMMANDS.map((args, c) => ((t + c) % 2 === 0 ? { args: [...args(tag), "--json"], json: true } : { args: args(tag), json: false })),
    );
    const results = await inBatches(cases.map((c) => () => h.run(c.args)));
    cases.forEach((c, i) => {
      const r = results[i];
      assert.ok(r !== undefined);
      assertInvalidName(c.args, r, c.json);
    });
    assert.deepEqual(h.tree(), before_, "nothing created or removed inside or outside the home");
  });
});
