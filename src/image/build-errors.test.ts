import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, SnapvmError, isSnapvmError } from "../errors/index.ts";
import { CommandFailedError } from "../util/run-command.ts";
import { wrapBuildError } from "./build-errors.ts";

test("a missing tool points at setup-host.sh", () => {
  const missing = new CommandFailedError("zstd", ["-d"], undefined, Object.assign(new Error("spawn zstd ENOENT"), { code: "ENOENT" }));
  const wrapped = wrapBuildError(missing, "build initramfs", "/c");
  assert.ok(isSnapvmError(wrapped, ErrorCode.ImageBuildFailed));
  assert.equal(wrapped.message, "building the tiny image failed (build initramfs): zstd -d could not run: spawn zstd ENOENT");
  assert.equal(wrapped.hint, "zstd is missing or cannot run. Install the host tools with scripts/setup-host.sh.");
  assert.equal(wrapped.cause, missing);
});

test("a failed download points at the network and the cache", () => {
  const failed = new CommandFailedError("apt-get", ["download", "x"], { stdout: "", stderr: "E: Failed to fetch", exitCode: 100 });
  const wrapped = wrapBuildError(failed, "fetch x", "/home/u/.snapvm/images/cache");
  assert.ok(isSnapvmError(wrapped, ErrorCode.ImageBuildFailed));
  assert.match(wrapped.hint ?? "", /cached in \/home\/u\/\.snapvm\/images\/cache/);
});

test("SnapvmErrors pass through, disk full is a user error, bugs stay bugs", () => {
  const own = new SnapvmError(ErrorCode.ImageMissing, "x");
  assert.equal(wrapBuildError(own, "s", "/c"), own);
  const full = wrapBuildError(Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC" }), "s", "/c");
  assert.ok(isSnapvmError(full, ErrorCode.ImageBuildFailed));
  const bug = new TypeError("x is undefined");
  assert.equal(wrapBuildError(bug, "s", "/c"), bug);
});
