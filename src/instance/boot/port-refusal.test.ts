import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../errors/index.ts";
import { describeHolder, ForwardFailureWatch, parseForwardFailure } from "./port-refusal.ts";

const QEMU_LINE = "qemu-system-x86_64: -netdev user,id=n0,hostfwd=tcp:127.0.0.1:18555-:80: Could not set up host forwarding rule 'tcp:127.0.0.1:18555-:80'";

test("QEMU's words for a forward it could not bind are parsed (QEMU 10.0.2's message)", () => {
  assert.deepEqual(parseForwardFailure(QEMU_LINE), { protocol: "tcp", hostAddress: "127.0.0.1", host: 18555 });
  assert.deepEqual(parseForwardFailure("Could not set up host forwarding rule 'udp::5353-:53'"), { protocol: "udp", hostAddress: "", host: 5353 });
  assert.equal(parseForwardFailure("qemu-system-x86_64: terminating on signal 15"), undefined);
});

test("a start that failed on a port becomes E_PORT_IN_USE; one that failed otherwise stays as it was", async () => {
  const lines: string[] = [];
  const watch = new ForwardFailureWatch((line) => lines.push(line));
  watch.onLine(QEMU_LINE);
  assert.deepEqual(lines, [QEMU_LINE], "lines still reach the log");
  const refusal = await watch.refusal("vm", [{ protocol: "tcp", hostAddress: "127.0.0.1", host: 18555, guest: 80 }], "restore");
  assert.ok(refusal !== undefined);
  assert.equal(refusal.code, ErrorCode.PortInUse);
  assert.match(refusal.message, /host port 127\.0\.0\.1:18555\/tcp \(forwarded to guest port 80\) is in use by/);
  assert.equal(refusal.details["hostResource"], "port");

  const other = new ForwardFailureWatch(() => undefined);
  other.onLine("qemu-system-x86_64: something else");
  const started = performance.now();
  assert.equal(await other.refusal("vm", [], "boot", 30), undefined);
  assert.ok(performance.now() - started >= 25, "it waited for a late line");
});

test("a line arriving after the failure is still seen within the grace", async () => {
  const watch = new ForwardFailureWatch(() => undefined);
  setTimeout(() => {
    watch.onLine(QEMU_LINE);
  }, 20);
  assert.equal((await watch.refusal("vm", [], "boot", 2000))?.code, ErrorCode.PortInUse);
});

test("a holder is named as a snapvm instance when it is one's QEMU", () => {
  assert.equal(
    describeHolder({ pid: 7, command: "qemu-system-x86_64 -name snapvm-web", argv: ["qemu-system-x86_64", "-name", "snapvm-web"] }),
    'snapvm instance "web" (QEMU pid 7)',
  );
  assert.equal(describeHolder({ pid: 8, command: "nc -l 8080", argv: ["nc", "-l", "8080"] }), "pid 8 (nc -l 8080)");
  assert.equal(describeHolder(undefined), "another process (snapvm could not tell which)");
});
