import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration } from "./durations.ts";

test("durations are a whole number with a unit, or 0", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("15m"), 900_000);
  assert.equal(parseDuration("12h"), 43_200_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  assert.equal(parseDuration("2w"), 1_209_600_000);
  assert.equal(parseDuration("0"), 0);
  for (const bad of ["", "7", "1.5d", "-1d", "7 days", "d", "99999999999999999w"]) {
    assert.throws(() => parseDuration(bad), { code: "E_INVALID_ARGUMENT", message: /invalid duration/ }, bad);
  }
});
