import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "./logger.ts";

test("logs pino-shaped JSON lines, with errors spelled out", () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-log-"));
  try {
    const fd = openSync(join(dir, "agent.log"), "a");
    const log = createLogger("vm1", fd);
    log.info({ step: "booting" }, "progress");
    log.warn("plain message");
    log.error({ err: Object.assign(new Error("boom"), { code: "E_X" }) }, "failed");
    closeSync(fd);
    const lines = readFileSync(join(dir, "agent.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l["level"], l["instance"], l["msg"]]),
      [
        [30, "vm1", "progress"],
        [40, "vm1", "plain message"],
        [50, "vm1", "failed"],
      ],
    );
    assert.equal(lines[0]?.["step"], "booting");
    const err = lines[2]?.["err"] as Record<string, unknown>;
    assert.deepEqual([err["type"], err["message"], err["code"]], ["Error", "boom", "E_X"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
