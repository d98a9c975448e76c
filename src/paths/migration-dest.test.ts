import assert from "node:assert/strict";
import { test } from "node:test";
import { isSnapvmError } from "../errors/index.ts";
import { formatMigrationDest, parseMigrationDest } from "./migration-dest.ts";

test("parses every part of an ssh:// destination", () => {
  assert.deepEqual({ ...parseMigrationDest("ssh://root@10.231.0.2:2222/tmp/b/home") }, { user: "root", host: "10.231.0.2", port: 2222, home: "/tmp/b/home" });
  assert.deepEqual({ ...parseMigrationDest("ssh://host-b.example") }, { host: "host-b.example" });
  assert.deepEqual({ ...parseMigrationDest("ssh://[fe80::1]:22/") }, { host: "[fe80::1]", port: 22 });
  assert.deepEqual({ ...parseMigrationDest("ssh://u@h/srv/snapvm/") }, { user: "u", host: "h", home: "/srv/snapvm" });
  assert.equal(formatMigrationDest(parseMigrationDest("ssh://root@10.231.0.2:2222/tmp/b/home")), "ssh://root@10.231.0.2:2222/tmp/b/home");
});

function refusedWith(text: string, why: RegExp): void {
  assert.throws(
    () => parseMigrationDest(text),
    (error: unknown) => isSnapvmError(error) && error.code === "E_INVALID_ARGUMENT" && why.test(error.message) && error.hint !== undefined,
    text,
  );
}

test("refuses anything else with E_INVALID_ARGUMENT and a hint", () => {
  refusedWith("root@host", /only ssh:\/\//);
  refusedWith("tcp://host:4444", /only ssh:\/\//);
  refusedWith("ssh://", /names no host/);
  refusedWith("ssh://-oProxyCommand=x", /not a host name/);
  refusedWith("ssh://a b", /not a host name/);
  refusedWith("ssh://$(id)@h", /not a plain user name/);
  refusedWith("ssh://u:pw@h", /port "pw@h"/);
  refusedWith("ssh://h:0", /port "0"/);
  refusedWith("ssh://h:65536", /port "65536"/);
  refusedWith("ssh://h:22x", /port "22x"/);
  refusedWith("ssh://h/../etc", /not a plain absolute path/);
  refusedWith("ssh://h/a;rm -rf", /not a plain absolute path/);
  refusedWith("ssh://h/a//b", /not a plain absolute path/);
  refusedWith("ssh://h?x=1", /not a host name/);
});
