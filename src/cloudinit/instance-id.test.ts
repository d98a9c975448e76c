import assert from "node:assert/strict";
import { test } from "node:test";
import { instanceIdFor } from "./instance-id.ts";

const base = { name: "web", user: "snapvm", publicKey: "ssh-ed25519 AAAA k", mac: "52:54:00:12:34:56" };

test("the instance-id is stable across cold boots and changes with what cloud-init's first boot applies", () => {
  assert.equal(instanceIdFor(base), instanceIdFor({ ...base }));
  assert.equal(instanceIdFor(base), instanceIdFor({ ...base, publicKey: `${base.publicKey}\n` }));
  const ids = new Set([
    instanceIdFor(base),
    instanceIdFor({ ...base, name: "web-1" }),
    instanceIdFor({ ...base, user: "admin" }),
    instanceIdFor({ ...base, publicKey: "ssh-ed25519 BBBB k" }),
    instanceIdFor({ ...base, userData: "packages: [curl]" }),
    instanceIdFor({ ...base, mac: "52:54:00:12:34:57" }),
  ]);
  assert.equal(ids.size, 6);
  assert.match(instanceIdFor(base), /^snapvm-web-[0-9a-f]{16}$/);
});
