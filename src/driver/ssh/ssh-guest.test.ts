import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { SshGuest } from "./ssh-guest.ts";

/**
 * A stand-in `ssh` first on PATH: it records its arguments and acts on the remote command, so the
 * client's handling of statuses, stdin, retries and timeouts is tested without a guest.
 */
const FAKE_SSH = `#!/bin/sh
dir=$(dirname "$0")
printf '%s\\n' "$@" > "$dir/args"
for last; do :; done
case "$last" in
  true)
    n=$(cat "$dir/attempts" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$dir/attempts"
    if [ "$n" -lt 3 ]; then echo "kex_exchange_identification: read: Connection reset by peer" >&2; exit 255; fi
    exit 0 ;;
  cat) exec cat ;;
  fail) echo out; echo err >&2; exit 3 ;;
  down) echo "ssh: connect to host 127.0.0.1 port 2222: Connection refused" >&2; exit 255 ;;
  hang) exec sleep 30 ;;
esac
exit 127
`;

describe("SshGuest", () => {
  let dir: string;
  let savedPath: string | undefined;
  const access = { kind: "ssh", port: 2222, user: "debian", keyPath: "/keys/id_ed25519" } as const;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "snapvm-fake-ssh-"));
    writeFileSync(join(dir, "ssh"), FAKE_SSH);
    chmodSync(join(dir, "ssh"), 0o755);
    savedPath = process.env["PATH"];
    process.env["PATH"] = `${dir}${delimiter}${savedPath ?? ""}`;
  });
  after(() => {
    process.env["PATH"] = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes stdin, returns output and a non-zero status as a result", async () => {
    const guest = new SshGuest(access, 'instance "c"');
    const echoed = await guest.exec("cat", { stdin: Buffer.from("hello") });
    assert.deepEqual([echoed.exitCode, echoed.stdout.toString()], [0, "hello"]);
    const failed = await guest.exec("fail");
    assert.deepEqual([failed.exitCode, failed.stdout.toString(), failed.stderr.toString()], [3, "out\n", "err\n"]);
    const args = readFileSync(join(dir, "args"), "utf8").trim().split("\n");
    assert.deepEqual(args.slice(-3), ["debian@127.0.0.1", "--", "fail"]);
    for (const expected of ["-i\n/keys/id_ed25519", "-p\n2222", "BatchMode=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "-F\n/dev/null"]) {
      assert.ok(args.join("\n").includes(expected), expected);
    }
  });

  it("turns ssh's own failure (255) into E_GUEST_CHANNEL with ssh's message", async () => {
    const guest = new SshGuest(access, 'instance "c"');
    await assert.rejects(guest.exec("down"), (error: unknown) => {
      assert.ok(isSnapvmError(error, ErrorCode.GuestChannel));
      assert.equal(error.message, 'instance "c": ssh to debian@127.0.0.1:2222 failed: ssh: connect to host 127.0.0.1 port 2222: Connection refused');
      return true;
    });
  });

  it("waitReady retries until a trivial command succeeds", async () => {
    rmSync(join(dir, "attempts"), { force: true });
    await new SshGuest(access, 'instance "c"').waitReady(10_000);
    assert.equal(readFileSync(join(dir, "attempts"), "utf8").trim(), "3");
  });

  it("waitReady gives up after its timeout, naming the last failure", async () => {
    writeFileSync(join(dir, "attempts"), "-1000");
    await assert.rejects(new SshGuest(access, 'instance "c"').waitReady(700), (error: unknown) => {
      assert.ok(isSnapvmError(error, ErrorCode.GuestTimeout));
      assert.match(
        error.message,
        /^instance "c": SSH on debian@127\.0\.0\.1:2222 did not answer within 700 ms \(last: kex_exchange_identification: read: Connection reset by peer\)$/,
      );
      return true;
    });
  });

  it("kills a command that outlives its timeout, and close() abandons running ones", async () => {
    const guest = new SshGuest(access, 'instance "c"');
    await assert.rejects(guest.exec("hang", { timeoutMs: 200 }), (error: unknown) => isSnapvmError(error, ErrorCode.GuestTimeout));
    const running = guest.exec("hang");
    setTimeout(() => {
      guest.close();
    }, 100);
    await assert.rejects(running, (error: unknown) => isSnapvmError(error, ErrorCode.GuestChannel));
    await assert.rejects(guest.exec("true"), /the SSH connection to the guest was closed/);
  });
});
