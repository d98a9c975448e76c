import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRemoteSnapshot } from "./remote-snapshot.ts";
import { forkServeSockets } from "./scratch.ts";

test("the last segment is NAME@TAG, the rest the host and its home", () => {
  const r = parseRemoteSnapshot("ssh://root@10.0.0.2:2222/var/lib/snapvm/dev@warm");
  assert.deepEqual({ ...r.host }, { user: "root", host: "10.0.0.2", port: 2222, home: "/var/lib/snapvm" });
  assert.equal(r.instance, "dev");
  assert.equal(r.tag, "warm");
  assert.equal(r.url, "ssh://root@10.0.0.2:2222/var/lib/snapvm/dev@warm");
  const plain = parseRemoteSnapshot("ssh://hosta/dev@warm");
  assert.deepEqual({ ...plain.host }, { host: "hosta" });
});

test("a URL without /NAME@TAG, or with a bad part, is refused", () => {
  for (const bad of ["ssh://root@hosta", "ssh://hosta/", "ssh://hosta/dev", "ssh://hosta/dev@", "ssh://hosta/@warm", "s3://b/dev@warm"])
    assert.throws(() => parseRemoteSnapshot(bad), { code: "E_INVALID_ARGUMENT" }, bad);
  assert.throws(() => parseRemoteSnapshot("ssh://hosta/Bad_Name@warm"), { code: "E_INVALID_NAME" });
  assert.throws(() => parseRemoteSnapshot("ssh://hosta/x/../y/dev@warm"), { code: "E_INVALID_ARGUMENT" });
});

test("fork-serve's socket paths come only from a 16-hex-digit id", () => {
  assert.deepEqual(forkServeSockets("0123456789abcdef"), {
    state: "/tmp/snapvm-rfork-0123456789abcdef-state.sock",
    disk: "/tmp/snapvm-rfork-0123456789abcdef-disk.sock",
  });
  for (const bad of ["", "0123456789abcde", "0123456789ABCDEF", "../../etc/passwd", "0123456789abcdef0"]) assert.equal(forkServeSockets(bad), undefined, bad);
});
