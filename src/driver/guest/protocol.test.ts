import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeExec, encodePing, encodeTime, parseReply } from "./protocol.ts";

test("exec requests encode command and stdin as base64, - for none", () => {
  assert.equal(encodeExec(7, "echo hi", Buffer.alloc(0)), `EXEC 7 ${Buffer.from("echo hi").toString("base64")} -\n`);
  assert.equal(encodeExec(8, "cat", Buffer.from("x")), `EXEC 8 ${Buffer.from("cat").toString("base64")} eA==\n`);
  assert.equal(encodePing(3), "PING 3\n");
  assert.equal(encodeTime(4, 1795382205.7), "TIME 4 1795382205\n");
});

test("replies decode, - meaning empty output", () => {
  assert.deepEqual(parseReply(`RESULT 7 3 ${Buffer.from("out").toString("base64")} -`), {
    kind: "result",
    id: 7,
    exitCode: 3,
    stdout: Buffer.from("out"),
    stderr: Buffer.alloc(0),
  });
  assert.deepEqual(parseReply("PONG 4 1"), { kind: "pong", id: 4, version: 1 });
  assert.deepEqual(parseReply("ERROR 5 unknown-verb"), { kind: "error", id: 5, reason: "unknown-verb" });
});

test("noise is not a reply", () => {
  for (const line of ["", "hello", "RESULT x 0 - -", "RESULT 1 zero - -", "PONG"]) assert.equal(parseReply(line), undefined);
});
