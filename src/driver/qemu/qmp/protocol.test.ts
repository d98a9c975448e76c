import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QEMU_10_GREETING } from "./fake-qmp-server.ts";
import { parseQmpLine } from "./protocol.ts";

void describe("parseQmpLine", () => {
  void it("reads the QEMU version from the greeting", () => {
    assert.deepEqual(parseQmpLine(QEMU_10_GREETING), {
      kind: "greeting",
      greeting: {
        version: { major: 10, minor: 0, micro: 2, package: "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1" },
        capabilities: ["oob"],
      },
    });
  });

  void it("classifies replies, errors and events", () => {
    assert.deepEqual(parseQmpLine('{"return": {"running": true}, "id": 7}'), { kind: "return", id: 7, value: { running: true } });
    assert.deepEqual(parseQmpLine('{"error": {"class": "CommandNotFound", "desc": "nope"}, "id": 8}'), {
      kind: "error",
      id: 8,
      errorClass: "CommandNotFound",
      desc: "nope",
    });
    assert.deepEqual(parseQmpLine('{"timestamp": {"seconds": 5, "microseconds": 6}, "event": "STOP"}'), {
      kind: "event",
      event: { event: "STOP", data: {}, timestamp: { seconds: 5, microseconds: 6 } },
    });
    assert.deepEqual(parseQmpLine('{"event": "MIGRATION", "data": {"status": "completed"}}'), {
      kind: "event",
      event: { event: "MIGRATION", data: { status: "completed" }, timestamp: { seconds: 0, microseconds: 0 } },
    });
  });

  void it("says why a line is not a message", () => {
    assert.equal(parseQmpLine("QEMU 10.0.2 monitor - type 'help' for more information"), "invalid-json");
    assert.equal(parseQmpLine('{"return": '), "invalid-json");
    assert.equal(parseQmpLine("[1, 2]"), "unknown-shape");
    assert.equal(parseQmpLine('{"hello": 1}'), "unknown-shape");
    assert.equal(parseQmpLine('{"error": "text"}'), "unknown-shape");
    assert.equal(parseQmpLine('{"QMP": {"version": {}}}'), "unknown-shape");
  });
});
