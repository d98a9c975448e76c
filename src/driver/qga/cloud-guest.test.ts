import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { SshGuest } from "../ssh/ssh-guest.ts";
import { CloudGuest } from "./cloud-guest.ts";
import { fakeQga, type QgaRequest } from "./fake-qga.ts";

/** A stand-in `ssh` first on PATH: succeeds when $dir/ssh-up exists, else fails as a refused connection. */
const FAKE_SSH = `#!/bin/sh
dir=$(dirname "$0")
[ -e "$dir/ssh-up" ] && { echo via-ssh; exit 0; }
echo "ssh: connect to host 127.0.0.1 port 2222: Connection refused" >&2; exit 255
`;

function passwdReply(passwd: string): string {
  return `{"return": {"count": ${passwd.length}, "buf-b64": "${Buffer.from(passwd).toString("base64")}", "eof": true}}\n`;
}

describe("CloudGuest", () => {
  let dir: string;
  let savedPath: string | undefined;
  const access = { kind: "ssh", port: 2222, user: "debian", keyPath: "/keys/id_ed25519" } as const;
  const label = 'instance "c"';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "snapvm-cloud-guest-"));
    writeFileSync(join(dir, "ssh"), FAKE_SSH);
    chmodSync(join(dir, "ssh"), 0o755);
    savedPath = process.env["PATH"];
    process.env["PATH"] = `${dir}${delimiter}${savedPath ?? ""}`;
  });
  const cloudGuest = (socket: string): CloudGuest =>
    new CloudGuest({ ssh: new SshGuest(access, label), access, qgaSocket: join(dir, socket), qgaPortOpen: () => Promise.resolve(true), label });

  after(() => {
    process.env["PATH"] = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it("is ready through the agent once the SSH user exists, and runs commands as that user through guest-exec", async (t) => {
    const seen: QgaRequest[] = [];
    let passwdReads = 0;
    const server = fakeQga(join(dir, "qga.sock"), (request) => {
      seen.push(request);
      switch (request.execute) {
        case "guest-file-open":
          return '{"return": 7}\n';
        case "guest-file-read": {
          // cloud-init makes the user between the first and the second look.
          const passwd = passwdReads++ === 0 ? "root:x:0:0::/root:/bin/sh\n" : "root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/bash\n";
          return `{"return": {"count": ${passwd.length}, "buf-b64": "${Buffer.from(passwd).toString("base64")}", "eof": true}}\n`;
        }
        case "guest-exec":
          return '{"return": {"pid": 9}}\n';
        case "guest-get-time":
          return `{"return": ${Date.now() * 1e6}}\n`;
        case "guest-exec-status":
          return `{"return": {"exited": true, "exitcode": 0, "out-data": "${Buffer.from("via-agent\n").toString("base64")}"}}\n`;
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = new CloudGuest({
      ssh: new SshGuest(access, label),
      access,
      qgaSocket: join(dir, "qga.sock"),
      qgaPortOpen: () => Promise.resolve(true),
      label,
    });
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000);
    assert.equal(guest.route(), "qemu-guest-agent");
    assert.equal(passwdReads, 2);
    assert.equal((await guest.exec("echo hi")).stdout.toString(), "via-agent\n");
    assert.deepEqual(seen.find((r) => r.execute === "guest-exec")?.arguments, {
      path: "setpriv",
      arg: ["--reuid=1000", "--regid=1000", "--init-groups", "--", "sh", "-c", "cd || exit 1\necho hi"],
      env: ["HOME=/home/debian", "USER=debian", "LOGNAME=debian", "SHELL=/bin/bash", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      "capture-output": true,
    });
    assert.equal(passwdReads, 2, "the entry readiness read is kept");
  });

  it("after a restore is ready at the agent's first answer, and reads the user's entry once, after the clock", async (t) => {
    const seen: string[] = [];
    const server = fakeQga(join(dir, "resumed.sock"), (request) => {
      seen.push(request.execute);
      switch (request.execute) {
        case "guest-file-open":
          return '{"return": 7}\n';
        case "guest-file-read":
          return passwdReply("debian:x:1001:100::/home/debian:/bin/sh\n");
        case "guest-get-time":
          return `{"return": ${Date.now() * 1e6}}\n`;
        case "guest-exec":
          return '{"return": {"pid": 9}}\n';
        case "guest-exec-status":
          return '{"return": {"exited": true, "exitcode": 0}}\n';
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = cloudGuest("resumed.sock");
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000, { resumed: true });
    assert.equal(guest.route(), "qemu-guest-agent");
    assert.deepEqual(seen, []);
    assert.equal(await guest.syncClock(), "exact");
    await guest.exec("true");
    await guest.exec("true");
    assert.deepEqual(seen, [
      "guest-get-time",
      "guest-file-open",
      "guest-file-read",
      "guest-file-close",
      "guest-exec",
      "guest-exec-status",
      "guest-exec",
      "guest-exec-status",
    ]);
  });

  it("runs commands through runuser once the guest has no setpriv", async (t) => {
    const paths: unknown[] = [];
    const server = fakeQga(join(dir, "runuser.sock"), (request) => {
      switch (request.execute) {
        case "guest-file-open":
          return '{"return": 7}\n';
        case "guest-file-read":
          return passwdReply("debian:x:1000:1000::/home/debian:/bin/bash\n");
        case "guest-exec":
          paths.push(request.arguments?.["path"]);
          return request.arguments?.["path"] === "setpriv"
            ? '{"error": {"class": "GenericError", "desc": "Failed to execute child process \\u201csetpriv\\u201d (No such file or directory)"}}\n'
            : '{"return": {"pid": 9}}\n';
        case "guest-exec-status":
          return '{"return": {"exited": true, "exitcode": 3}}\n';
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = cloudGuest("runuser.sock");
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000);
    assert.equal((await guest.exec("exit 3")).exitCode, 3);
    assert.equal((await guest.exec("exit 3")).exitCode, 3);
    assert.deepEqual(paths, ["setpriv", "runuser", "runuser"]);
  });

  it("runs a resumed guest's commands through runuser when its /etc/passwd cannot be read", async (t) => {
    const paths: unknown[] = [];
    const server = fakeQga(join(dir, "nopasswd.sock"), (request) => {
      switch (request.execute) {
        case "guest-file-open":
          return '{"error": {"class": "GenericError", "desc": "failed to open file"}}\n';
        case "guest-exec":
          paths.push(request.arguments?.["path"]);
          return '{"return": {"pid": 9}}\n';
        case "guest-exec-status":
          return '{"return": {"exited": true, "exitcode": 0}}\n';
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = cloudGuest("nopasswd.sock");
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000, { resumed: true });
    assert.equal((await guest.exec("true")).exitCode, 0);
    assert.deepEqual(paths, ["runuser"]);
  });

  it("sets the clock with relative `date -s` shifts, each losing what the guest took between reading and setting", async (t) => {
    // The fake guest's clock: the host's plus `offsetMs`; a shift lands 45 ms behind, then 25 ms, then 1 ms.
    let offsetMs = -61_000;
    const late = [45, 25, 1];
    const shifts: unknown[] = [];
    const server = fakeQga(join(dir, "shift.sock"), (request) => {
      switch (request.execute) {
        case "guest-get-time":
          return `{"return": ${Math.round((Date.now() + offsetMs) * 1e6)}}\n`;
        case "guest-exec": {
          const args = request.arguments?.["arg"] as string[];
          shifts.push(request.arguments?.["path"], ...args.slice(0, 2));
          const match = /^([+-]\d+\.\d{9}) seconds$/.exec(args[2] ?? "");
          assert.ok(match, `a relative date: ${args[2]}`);
          offsetMs += Number(match[1]) * 1000 - (late.shift() ?? 0);
          return '{"return": {"pid": 5}}\n';
        }
        case "guest-exec-status":
          return '{"return": {"exited": true, "exitcode": 0}}\n';
        case "guest-set-time":
          return '{"error": {"class": "GenericError", "desc": "no guest-set-time while shifts work"}}\n';
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = cloudGuest("shift.sock");
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000, { resumed: true });
    assert.equal(await guest.syncClock(), "exact");
    assert.equal(shifts.length, 9, "three shifts: 61 s, then the 45 ms and the 25 ms lost");
    assert.deepEqual(shifts.slice(0, 3), ["date", "-u", "-s"]);
    assert.ok(Math.abs(offsetMs) < 2, `the guest's clock ends ${offsetMs.toFixed(1)} ms off`);
  });

  it("falls back to guest-set-time when the guest's date takes no relative shift (busybox)", async (t) => {
    let offsetMs = -20_000;
    let execs = 0;
    let sets = 0;
    const server = fakeQga(join(dir, "busybox.sock"), (request) => {
      switch (request.execute) {
        case "guest-get-time":
          return `{"return": ${Math.round((Date.now() + offsetMs) * 1e6)}}\n`;
        case "guest-exec":
          execs++;
          return '{"return": {"pid": 5}}\n';
        case "guest-exec-status":
          return `{"return": {"exited": true, "exitcode": 1, "err-data": "${Buffer.from("date: invalid date '+20.000000000 seconds'\n").toString("base64")}"}}\n`;
        case "guest-set-time":
          sets++;
          offsetMs = Number(request.arguments?.["time"]) / 1e6 - Date.now();
          return '{"return": {}}\n';
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = cloudGuest("busybox.sock");
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000, { resumed: true });
    assert.equal(await guest.syncClock(), "exact");
    offsetMs = -5000;
    assert.equal(await guest.syncClock(), "exact");
    assert.deepEqual({ execs, sets }, { execs: 1, sets: 2 }, "date is tried once per connection");
    assert.ok(Math.abs(offsetMs) < 10, `the guest's clock ends ${offsetMs.toFixed(1)} ms off`);
  });

  it("sets the clock once more when the first guest-set-time took effect late (no shifts)", async (t) => {
    // The fake guest's clock: the host's plus `offsetMs`; its first set takes effect 30 ms late.
    let offsetMs = -20_000;
    let sets = 0;
    const server = fakeQga(join(dir, "clock.sock"), (request) => {
      switch (request.execute) {
        case "guest-get-time":
          return `{"return": ${Math.round((Date.now() + offsetMs) * 1e6)}}\n`;
        case "guest-set-time":
          offsetMs = Number(request.arguments?.["time"]) / 1e6 - Date.now() - (sets++ === 0 ? 30 : 0);
          return '{"return": {}}\n';
        case "guest-file-open":
          return '{"return": 7}\n';
        case "guest-file-read":
          return passwdReply("debian:x:1000:1000::/home/debian:/bin/bash\n");
        case "guest-exec":
          return '{"error": {"class": "GenericError", "desc": "Failed to execute child process"}}\n';
        default:
          return '{"return": {}}\n';
      }
    });
    const guest = new CloudGuest({
      ssh: new SshGuest(access, label),
      access,
      qgaSocket: join(dir, "clock.sock"),
      qgaPortOpen: () => Promise.resolve(true),
      label,
    });
    t.after(() => {
      guest.close();
      server.close();
    });
    await guest.waitReady(10_000);
    assert.equal(await guest.syncClock(), "exact");
    assert.equal(sets, 2);
    assert.ok(Math.abs(offsetMs) < 10, `the guest's clock ends ${offsetMs.toFixed(1)} ms off`);
  });

  it("falls back to SSH when the guest never opens the agent's port", async (t) => {
    writeFileSync(join(dir, "ssh-up"), "");
    t.after(() => {
      rmSync(join(dir, "ssh-up"), { force: true });
    });
    const guest = new CloudGuest({
      ssh: new SshGuest(access, label),
      access,
      qgaSocket: join(dir, "none.sock"),
      qgaPortOpen: () => Promise.resolve(false),
      label,
    });
    t.after(() => {
      guest.close();
    });
    await guest.waitReady(10_000);
    assert.equal(guest.route(), "ssh");
    assert.equal((await guest.exec("anything")).stdout.toString(), "via-ssh\n");
  });

  it("when neither answers, says so for both, with SSH's code and hint", async (t) => {
    const guest = new CloudGuest({
      ssh: new SshGuest(access, label),
      access,
      qgaSocket: join(dir, "none.sock"),
      qgaPortOpen: () => Promise.resolve(false),
      label,
    });
    t.after(() => {
      guest.close();
    });
    await assert.rejects(guest.waitReady(1500), (error: unknown) => {
      assert.ok(isSnapvmError(error, ErrorCode.GuestTimeout));
      assert.match(
        error.message,
        /^instance "c": SSH on debian@127\.0\.0\.1:2222 did not answer within \d+ ms \(last: .*Connection refused\); and qemu-guest-agent did not answer within 1500 ms$/,
      );
      assert.match(error.hint ?? "", /timeouts\.boot/);
      return true;
    });
  });
});
