import { test } from "node:test";
import assert from "node:assert/strict";
import type { PinnedLaunch } from "../../snapshot/launch.ts";
import { qemuState } from "./state.ts";

const launch = (backing: "file" | "anonymous", shareMemory?: boolean): PinnedLaunch =>
  ({ spec: { memoryBacking: backing }, ...(shareMemory === undefined ? {} : { argvOptions: { shareMemory } }) }) as unknown as PinnedLaunch;

test("a VM that owns a shared RAM file saves device state only; anonymous RAM and forks save all of it", () => {
  assert.equal(qemuState.layoutOf(launch("file")), "device-state");
  assert.equal(qemuState.layoutOf(launch("file", true)), "device-state");
  // A fork maps its template's file private: that file is not its memory.
  assert.equal(qemuState.layoutOf(launch("file", false)), "full-ram");
  assert.equal(qemuState.layoutOf(launch("anonymous")), "full-ram");
});
