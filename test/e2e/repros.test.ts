import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeHome, jsonError } from "./harness.ts";

/** The reproductions in issue 10, each run against the built CLI in a scratch home. */
describe("issue 10 repros", () => {
  let h: FakeHome;
  before(() => {
    h = new FakeHome();
    h.addInstance("lg");
    h.addSnapshot("lg", "good");
  });
  after(() => {
    h.cleanup();
  });

  test("delete ../../victim is refused with E_INVALID_NAME and $T/victim is intact", async () => {
    const before = h.tree();
    const r = await h.run(["delete", "../../victim", "--json"]);
    assert.equal(r.code, 1);
    assert.equal(jsonError(r.stdout).code, "E_INVALID_NAME");
    assert.equal(readFileSync(join(h.root, "victim", "snapvm.yaml"), "utf8"), "cpus: 1\n");
    assert.deepEqual(h.tree(), before);
  });

  test("snapshot info with a traversal tag reads nothing outside the home", async () => {
    mkdirSync(join(h.root, "outside"), { recursive: true });
    writeFileSync(join(h.root, "outside", "manifest.json"), JSON.stringify({ secret: true }));
    const r = await h.run(["snapshot", "info", "lg", "../../../../outside"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^snapvm: invalid snapshot tag "\.\.\/\.\.\/\.\.\/\.\.\/outside": it must start with a letter or digit \[E_INVALID_NAME\]\n {2}hint: /,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /secret/);
  });

  test("create x --cpus abc: one line with E_INVALID_ARGUMENT, no stack", async () => {
    const r = await h.run(["create", "x", "--cpus", "abc"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `snapvm: option '--cpus <n>' argument 'abc' is invalid. expected a whole number, got "abc" [E_INVALID_ARGUMENT]\n  hint: See \`snapvm create --help\`.\n`,
    );
    assert.equal(existsSync(h.instanceDir("x")), false);
  });

  test("logs --agent -f on an instance that never started waits, and ends on SIGINT", async () => {
    const child = h.spawn(["logs", "lg", "--agent", "-f"]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(child.exitCode, null, "still following after 1 s");
    child.kill("SIGINT");
    const r = await child.result;
    assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
    assert.equal(r.stderr, "");
  });

  test("logs -f prints what is appended to the console log", async () => {
    const log = join(h.instanceDir("lg"), "console.log");
    writeFileSync(log, "boot\n");
    const child = h.spawn(["logs", "lg", "-f"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    writeFileSync(log, "boot\nlogin:\n");
    await new Promise((resolve) => setTimeout(resolve, 1200));
    child.kill("SIGINT");
    const r = await child.result;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "boot\nlogin:\n");
    assert.doesNotMatch(r.stderr, /MaxListeners/);
  });

  test("list with a stray directory lists it as broken, with the reason", async () => {
    mkdirSync(h.instanceDir("stray"));
    const r = await h.run(["list", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { name: string; state: string; reason?: string }[];
    assert.deepEqual(
      list.map((i) => [i.name, i.state, i.reason]),
      [
        ["lg", "created", undefined],
        ["stray", "broken", "no snapvm.yaml in the directory"],
      ],
    );
    const table = await h.run(["list"]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /│ stray │ broken .*│ no snapvm\.yaml in the directory │/);
  });

  test("snapshot list with a malformed manifest lists it as broken, with the reason", async () => {
    h.addSnapshot("lg", "bad", "{");
    const r = await h.run(["snapshot", "list", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { instance: string; tag: string; kind: string; reason?: string }[];
    assert.deepEqual(
      list.map((s) => [s.instance, s.tag, s.kind]),
      [
        ["lg", "good", "live"],
        ["lg", "bad", "broken"],
      ],
    );
    assert.match(list[1]?.reason ?? "", /the saved state in .*snapshots\/bad is unusable/);
    const table = await h.run(["snapshot", "list", "lg"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /bad\s.*broken\s.*unusable/);
  });
});
