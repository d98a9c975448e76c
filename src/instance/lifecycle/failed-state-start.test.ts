import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../../errors/index.ts";
import { instancePaths, parseInstanceName, type InstancePaths } from "../../paths/index.ts";
import { moveStateAside } from "../suspend/failed-states.ts";
import { parseStateRef, reinstateFailedState } from "./failed-state-start.ts";

test("--state takes failed:ID or failed:latest", () => {
  assert.deepEqual(parseStateRef("failed:latest"), { kind: "failed", id: "latest" });
  assert.deepEqual(parseStateRef("failed:2026-12-02T17-18-28.123Z"), { kind: "failed", id: "2026-12-02T17-18-28.123Z" });
  assert.throws(() => parseStateRef("2026-12-02T17-18-28.123Z"), { code: ErrorCode.InvalidArgument, message: /--state expects failed:ID or failed:latest/ });
  assert.throws(() => parseStateRef("failed:"), { code: ErrorCode.InvalidArgument });
  assert.throws(() => parseStateRef("failed:../../etc"), { code: ErrorCode.InvalidName });
});

const vm = parseInstanceName("vm");

function scratch(): { home: string; paths: InstancePaths } {
  const home = mkdtempSync(join(tmpdir(), "snapvm-reinstate-"));
  const paths = instancePaths(vm, home);
  mkdirSync(paths.disksDir, { recursive: true });
  writeFileSync(paths.config, "cpus: 1\n");
  writeFileSync(join(paths.disksDir, "a.qcow2"), "");
  symlinkSync("disks/a.qcow2", paths.disk);
  mkdirSync(paths.suspendDir);
  writeFileSync(join(paths.suspendDir, "manifest.json"), JSON.stringify({ files: [{ name: "../memory.ram", role: "memory" }] }));
  writeFileSync(paths.memory, "ram");
  return { home, paths };
}

test("a kept-aside state goes back to suspend/ with its RAM file, without REASON and ASIDE.json", async () => {
  const { home, paths } = scratch();
  try {
    await moveStateAside(paths, "port taken");
    writeFileSync(paths.memory, "a fresh file a failed cold boot's QEMU left");
    const state = await reinstateFailedState(vm, paths, { kind: "failed", id: "latest" }, home);
    assert.equal(state.reason, "port taken");
    assert.deepEqual(readdirSync(paths.suspendDir), ["manifest.json"]);
    assert.equal(readFileSync(paths.memory, "utf8"), "ram");
    assert.deepEqual(readdirSync(paths.failedStatesDir), []);
    assert.equal(existsSync(paths.agentLock), false, "the lock was released");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("refused: a saved state of its own, an unknown id, a state that cannot be restored faithfully", async () => {
  const { home, paths } = scratch();
  try {
    await moveStateAside(paths, "first");
    mkdirSync(paths.suspendDir);
    await assert.rejects(reinstateFailedState(vm, paths, { kind: "failed", id: "latest" }, home), {
      code: ErrorCode.InvalidTransition,
      message: /has a saved state of its own/,
    });
    rmSync(paths.suspendDir, { recursive: true });
    await assert.rejects(reinstateFailedState(vm, paths, parseStateRef("failed:nope"), home), {
      code: ErrorCode.InvalidArgument,
      message: 'instance "vm" has no failed state "nope"',
    });
    mkdirSync(paths.bootDir);
    writeFileSync(paths.bootLaunch, JSON.stringify({ bootedAt: new Date(Date.now() + 60_000).toISOString() }));
    await assert.rejects(reinstateFailedState(vm, paths, { kind: "failed", id: "latest" }, home), {
      code: ErrorCode.InvalidTransition,
      message: /cannot be restored faithfully: the instance booted since/,
    });
    assert.equal(readdirSync(paths.failedStatesDir).length, 1, "a refused state stays where it was");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
