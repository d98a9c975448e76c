import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeHome, jsonError } from "./harness.ts";

const ONE_ERROR_LINE = /^snapvm: [^\n]+ \[E_INVALID_ARGUMENT\]\n {2}hint: See `snapvm[a-z ]*--help`\.\n$/;

describe("bad flags and commander's own errors: one line with E_INVALID_ARGUMENT, exit 1", () => {
  let h: FakeHome;
  before(() => {
    h = new FakeHome();
    h.addInstance("good");
    h.addSnapshot("good", "warm");
  });
  after(() => {
    h.cleanup();
  });

  const cases: [string[], RegExp][] = [
    [["create", "x", "--cpus", "abc"], /argument 'abc' is invalid/],
    [["create", "x", "--cpus", "1.5"], /argument '1\.5' is invalid/],
    [["fork", "good@warm", "new", "--count", "x"], /option '--count <n>' argument 'x' is invalid/],
    [["snapshot", "compress", "good", "warm", "--level", "high"], /option '--level <n>' argument 'high' is invalid/],
    [["list", "--bogus"], /unknown option '--bogus'/],
    [["snapshot", "create", "good"], /missing required argument 'tag'/],
    [["bogus"], /unknown command 'bogus'/],
    [["info"], /missing required argument 'name'/],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      const r = await h.run(args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, ONE_ERROR_LINE);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
      const j = await h.run([...args, "--json"]);
      assert.equal(j.code, 1, j.stderr);
      const error = jsonError(j.stdout);
      assert.equal(error.code, "E_INVALID_ARGUMENT");
      assert.match(error.message, message);
      assert.match(error.hint ?? "", /--help/);
    });
  }

  test("--help and --version exit 0", async () => {
    for (const args of [["--help"], ["--version"], ["snapshot", "create", "--help"]]) {
      const r = await h.run(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.notEqual(r.stdout, "");
    }
  });

  test("an internal error under --json is JSON too: E_INTERNAL, exit 70", async () => {
    // A SNAPVM_HOME that is a regular file: reading instances/ fails with ENOTDIR, which no command expects.
    const file = join(h.root, "not-a-dir");
    writeFileSync(file, "");
    const r = await h.run(["list", "--json"], { SNAPVM_HOME: file });
    assert.equal(r.code, 70);
    const error = jsonError(r.stdout);
    assert.equal(error.code, "E_INTERNAL");
    assert.match(error.message, /ENOTDIR/);
    assert.match(r.stderr, /^snapvm: internal error: /);
  });
});

describe("delete", () => {
  let h: FakeHome;
  before(() => {
    h = new FakeHome();
    h.addInstance("tpl");
    h.addSnapshot("tpl", "warm");
    h.addFork("web-1", { instance: "tpl", tag: "warm" });
  });
  after(() => {
    h.cleanup();
  });

  test("refuses a template whose snapshot has a fork, naming it, even with --force", async () => {
    const before_ = h.tree();
    for (const force of [[], ["--force"]]) {
      const r = await h.run(["delete", "tpl", ...force]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^snapvm: instance "tpl" has forks that depend on its snapshots: web-1 \(from tpl@warm\); refusing to delete it \[E_INVALID_TRANSITION\]\n {2}hint: Delete the forks first \(`snapvm delete web-1`\), then this instance; --force does not override this\.\n$/,
      );
      const j = await h.run(["delete", "tpl", ...force, "--json"]);
      assert.deepEqual(jsonError(j.stdout).details, { instance: "tpl", forks: [{ name: "web-1", tag: "warm" }] });
    }
    assert.deepEqual(h.tree(), before_);
  });

  test("once the fork is gone, the template is deleted and nothing is left behind", async () => {
    assert.equal((await h.run(["delete", "web-1"])).code, 0);
    const r = await h.run(["delete", "tpl", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: "tpl", deleted: true });
    assert.deepEqual(
      h.tree().filter((p) => p.startsWith("home/")),
      ["home/", "home/instances/"],
    );
  });

  test("an instance whose agent holds the lock is refused", async () => {
    h.addInstance("busy");
    // A live pid in agent.lock (this test process) is what a running agent leaves.
    writeFileSync(join(h.instanceDir("busy"), "agent.lock"), String(process.pid));
    const r = await h.run(["delete", "busy"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[E_INSTANCE_RUNNING\]/);
    assert.equal(existsSync(h.instanceDir("busy")), true);
  });
});
