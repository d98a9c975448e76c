import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { guestDir, readGuestFiles } from "./guest-files.ts";
import { GUEST_FILES } from "./initramfs.ts";
import { GUEST_PROTOCOL_VERSION } from "./guest-protocol.ts";

test("every guest file exists and the scripts parse as POSIX sh", async () => {
  const dir = guestDir();
  const files = await readGuestFiles(dir);
  assert.equal(files.size, GUEST_FILES.length);
  for (const spec of GUEST_FILES) {
    if ((spec.mode & 0o111) === 0) continue;
    assert.ok(files.get(spec.source)?.subarray(0, 10).toString().startsWith("#!/bin/sh"), `${spec.source} has a #!/bin/sh line`);
    assert.ok((statSync(join(dir, spec.source)).mode & 0o111) !== 0, `${spec.source} is executable in the repo`);
    execFileSync("sh", ["-n", join(dir, spec.source)]);
  }
});

test("the agent and init keep the strings the host relies on", async () => {
  const files = await readGuestFiles();
  const agent = files.get("snapvm-guest-agent")?.toString() ?? "";
  assert.match(agent, /^PORT_NAME=org\.snapvm\.agent$/m);
  // The host decides what it may send (TIME) from the version in PONG.
  assert.match(agent, new RegExp(`^PROTOCOL=${GUEST_PROTOCOL_VERSION}$`, "m"));
  assert.match(files.get("init")?.toString() ?? "", /^echo "snapvm-guest: ready"$/m);
});
