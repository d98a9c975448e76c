import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePasswdEntry } from "./guest-account.ts";
import { shiftArgument } from "./guest-clock.ts";

describe("parsePasswdEntry", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\ndebianx:x:1001:1001::/home/debianx:/bin/sh\ndebian:x:1000:100:,,,:/home/debian:/bin/bash\n";

  it("finds the user's uid, gid, home and shell, not a user whose name it prefixes", () => {
    assert.deepEqual(parsePasswdEntry(passwd, "debian"), { user: "debian", uid: 1000, gid: 100, home: "/home/debian", shell: "/bin/bash" });
  });

  it("is undefined for a missing user or a malformed entry, and defaults an empty home and shell", () => {
    assert.equal(parsePasswdEntry(passwd, "ubuntu"), undefined);
    assert.equal(parsePasswdEntry("debian:x:abc:100::/home/debian:/bin/sh\n", "debian"), undefined);
    assert.equal(parsePasswdEntry("debian:x:1000\n", "debian"), undefined);
    assert.deepEqual(parsePasswdEntry("debian:x:1000:1000:::\n", "debian"), { user: "debian", uid: 1000, gid: 1000, home: "/", shell: "/bin/sh" });
  });
});

describe("shiftArgument", () => {
  it("is GNU date's signed relative item to the nanosecond", () => {
    assert.equal(shiftArgument(61_012.345678), "+61.012345678 seconds");
    assert.equal(shiftArgument(-0.5), "-0.000500000 seconds");
    assert.equal(shiftArgument(0), "+0.000000000 seconds");
  });
});
