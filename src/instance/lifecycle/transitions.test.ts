import { test } from "node:test";
import assert from "node:assert/strict";
import { InstanceStates } from "../../store/instance-state.ts";
import { assertTransition, canTransition } from "./transitions.ts";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";

test("every state can eventually start again", () => {
  for (const state of InstanceStates) {
    const reachable = new Set([state]);
    for (let i = 0; i < InstanceStates.length; i++) {
      for (const from of [...reachable]) for (const to of InstanceStates) if (canTransition(from, to)) reachable.add(to);
    }
    assert.ok(reachable.has("running"), `${state} never reaches running`);
  }
});

test("a running instance cannot start again", () => {
  assert.throws(
    () => {
      assertTransition("a", "running", "starting");
    },
    (error: unknown) => isSnapvmError(error, ErrorCode.InvalidTransition) && error.message === 'instance "a" is running and cannot become starting',
  );
});

test("a failed save resumes, a failed restore cold-boots", () => {
  assert.ok(canTransition("saving", "running"));
  assert.ok(canTransition("restoring", "starting"));
  assert.ok(!canTransition("restoring", "suspended"));
});
