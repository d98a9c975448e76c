import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseAccel, type HostProbe } from "./accel.ts";
import { isSnapvmError } from "../../errors/index.ts";

const goodHost: HostProbe = { kvmDeviceUsable: true, kvmPvmLoaded: false, cpuHasVirtualization: true };

test("auto picks KVM on a host where it works", () => {
  assert.deepEqual(chooseAccel("auto", goodHost), { accel: "kvm", reason: "KVM is usable" });
});

test("auto falls back to TCG on kvm-pvm, a missing /dev/kvm, or no vmx/svm", () => {
  assert.equal(chooseAccel("auto", { ...goodHost, kvmPvmLoaded: true }).reason, "TCG because /dev/kvm is kvm-pvm, which cannot run a stock guest");
  assert.equal(chooseAccel("auto", { ...goodHost, kvmDeviceUsable: false }).reason, "TCG because /dev/kvm is missing or not accessible");
  assert.equal(chooseAccel("auto", { ...goodHost, cpuHasVirtualization: false }).accel, "tcg");
});

test("kvm requested on a host without it is a clear error", () => {
  assert.throws(
    () => chooseAccel("kvm", { ...goodHost, kvmPvmLoaded: true }),
    (error: unknown) => isSnapvmError(error) && error.message === "accel: kvm was requested but /dev/kvm is kvm-pvm, which cannot run a stock guest",
  );
});

test("tcg is always honoured", () => {
  assert.equal(chooseAccel("tcg", goodHost).accel, "tcg");
});
