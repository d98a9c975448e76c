import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../errors/index.ts";
import { parseListen } from "./listen-address.ts";

test("loopback addresses are served; others only with allowRemote; malformed ones are refused", () => {
  assert.deepEqual(parseListen("127.0.0.1:8080", false), { host: "127.0.0.1", port: 8080, loopback: true });
  assert.deepEqual(parseListen("[::1]:0", false), { host: "::1", port: 0, loopback: true });
  assert.deepEqual(parseListen("localhost:9", false), { host: "localhost", port: 9, loopback: true });
  assert.throws(
    () => parseListen("0.0.0.0:8080", false),
    (e: { code: string; message: string; hint: string }) => {
      assert.equal(e.code, ErrorCode.InvalidArgument);
      assert.match(e.message, /refusing to serve the dashboard on 0\.0\.0\.0, which is not a loopback address/);
      assert.match(e.hint, /--allow-remote/);
      return true;
    },
  );
  assert.deepEqual(parseListen("0.0.0.0:8080", true), { host: "0.0.0.0", port: 8080, loopback: false });
  for (const bad of ["8080", "127.0.0.1", "127.0.0.1:70000", "example.com:80", "[::1:80"]) {
    assert.throws(() => parseListen(bad, true), { code: ErrorCode.InvalidArgument }, bad);
  }
});
