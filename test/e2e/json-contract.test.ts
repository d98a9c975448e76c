import assert from "node:assert/strict";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeStateDir } from "../../src/snapshot/compress-fixture.ts";
import { FakeHome, jsonError } from "./harness.ts";

/** Parses JSON-lines stdout: every line must be one JSON value. */
function jsonLines(stdout: string): unknown[] {
  assert.ok(stdout === "" || stdout.endsWith("\n"), "JSON lines end with a newline");
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as unknown);
}

describe("logs --json: JSON lines", () => {
  let h: FakeHome;
  before(() => {
    h = new FakeHome();
    const dir = h.addInstance("dev");
    writeFileSync(join(dir, "console.log"), "Linux version 6.1\r\nlogin: ");
    writeFileSync(join(dir, "agent.log"), '{"level":30,"msg":"ready"}\n');
    writeFileSync(join(dir, "events.jsonl"), '{"at":"2026-12-02T10:00:00.000Z","event":"ready","ms":41}\n{"at":"2026-12-02T10:01:00.000Z","event":"sa');
    h.addInstance("quiet");
  });
  after(() => {
    h.cleanup();
  });

  test("the console log: one {kind, line} per line, the unterminated last line included", async () => {
    const r = await h.run(["logs", "dev", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r.stdout), [
      { kind: "console", line: "Linux version 6.1" },
      { kind: "console", line: "login: " },
    ]);
  });

  test("--agent tags the agent log's lines", async () => {
    const r = await h.run(["logs", "dev", "--agent", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r.stdout), [{ kind: "agent", line: '{"level":30,"msg":"ready"}' }]);
  });

  test("--events prints the events themselves; a torn line comes tagged", async () => {
    const r = await h.run(["logs", "dev", "--events", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r.stdout), [
      { at: "2026-12-02T10:00:00.000Z", event: "ready", ms: 41 },
      { kind: "events", line: '{"at":"2026-12-02T10:01:00.000Z","event":"sa' },
    ]);
  });

  test("a log not written yet prints nothing", async () => {
    const r = await h.run(["logs", "quiet", "--json"]);
    assert.deepEqual([r.code, r.stdout], [0, ""]);
  });

  test("without --json the bytes are printed as they are", async () => {
    const r = await h.run(["logs", "dev"]);
    assert.deepEqual([r.code, r.stdout], [0, "Linux version 6.1\r\nlogin: "]);
  });

  test("an unknown instance is a JSON error", async () => {
    const r = await h.run(["logs", "nope", "--json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(jsonError(r.stdout).code, "E_INSTANCE_NOT_FOUND");
  });
});

describe("shell --json: refused, shell is interactive", () => {
  let h: FakeHome;
  before(() => {
    h = new FakeHome();
    h.addInstance("dev");
  });
  after(() => {
    h.cleanup();
  });

  test("E_INVALID_ARGUMENT as JSON, with a hint to exec --json, and nothing attached", async () => {
    const r = await h.run(["shell", "dev", "--json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, "");
    const error = jsonError(r.stdout);
    assert.equal(error.code, "E_INVALID_ARGUMENT");
    assert.equal(error.message, 'shell is interactive and has no JSON output (instance "dev")');
    assert.match(error.hint ?? "", /snapvm exec dev --json -- COMMAND/);
    assert.deepEqual(error.details, { instance: "dev", command: "shell" });
  });

  test("a bad name is still reported as such", async () => {
    const r = await h.run(["shell", "../x", "--json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(jsonError(r.stdout).code, "E_INVALID_NAME");
  });
});

describe("progress is for terminals only", () => {
  let h: FakeHome;
  before(() => {
    h = new FakeHome();
    h.addInstance("dev");
    const state = makeStateDir();
    cpSync(state, join(h.instanceDir("dev"), "snapshots", "warm"), { recursive: true });
    rmSync(state, { recursive: true, force: true });
  });
  after(() => {
    h.cleanup();
  });

  test("snapshot compress and decompress on pipes: the result on stdout, nothing on stderr", async () => {
    for (const verb of ["compress", "decompress"]) {
      const r = await h.run(["snapshot", verb, "dev", "warm", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.equal((JSON.parse(r.stdout) as { changed: boolean }).changed, true);
    }
  });
});
