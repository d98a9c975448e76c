import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloudImageBootFiles, ensureCloudImage } from "./cloud-image.ts";
import { TestHome } from "./harness.ts";

interface StartJson {
  status: { state: string; bootKind: string };
}
interface Info {
  state: string;
  boot?: { spec: { guestAccess?: { kind: string; port?: number; user?: string }; qgaSocket?: string; boot?: Record<string, string> } };
}

/** cloud-init and systemd under TCG: about a minute here; the limit leaves room for a slow CI machine. */
const BOOT_TIMEOUT_S = 300;

describe("a cloud image: cloud-init from snapvm's cidata ISO, exec through qemu-guest-agent, shell over SSH, suspend and resume", () => {
  let home: TestHome;
  let image: string;
  before(async () => {
    image = await ensureCloudImage();
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test(
    "create → start (cloud-init) → exec (qemu-guest-agent), shell over SSH → save → restore through the same port → delete",
    { timeout: 12 * 60_000 },
    async () => {
      // "acc": its MAC, 52:54:00:41:43:22, is a base-60 integer to YAML 1.1 (cloud-init's PyYAML) unless
      // snapvm quotes it; unquoted, cloud-init failed and the NIC never came up.
      const name = "acc";
      const configFile = join(home.dir, "cloud.yaml");
      writeFileSync(
        configFile,
        [
          `image: ${image}`,
          "cpus: 2",
          "memory: { size: 512M }",
          "disk: { size: 4G }",
          `timeouts: { boot: ${BOOT_TIMEOUT_S}, restore: 120 }`,
          "cloudInit:",
          "  userData: |",
          "    #cloud-config",
          "    write_files:",
          "      - path: /etc/snapvm-test",
          "        content: merged from cloudInit.userData",
          "",
        ].join("\n"),
      );
      await home.ok(["create", name, "--from-file", configFile]);
      const keyPath = join(home.instanceDir(name), "ssh", "id_ed25519");
      assert.ok(existsSync(keyPath), "create generated the instance's SSH key");
      const publicKey = readFileSync(`${keyPath}.pub`, "utf8").trim();
      assert.match(publicKey, /^ssh-ed25519 \S+ snapvm-acc$/);

      const started = await home.json<StartJson>(["start", name]);
      assert.deepEqual([started.status.state, started.status.bootKind], ["running", "cold"]);
      const access = (await home.json<Info>(["info", name])).boot?.spec.guestAccess;
      assert.equal(access?.kind, "ssh");
      assert.equal(access.user, "debian");
      assert.ok(access.port !== undefined && access.port > 0);

      // cloud-init ran against our NoCloud ISO, without errors: the hostname, the key, sudo, the user's merged user-data.
      assert.match(await home.ok(["exec", name, "--", "cloud-init", "status", "--wait"]), /status: done/);
      assert.equal(await home.ok(["exec", name, "--", "hostname"]), "acc\n");
      assert.equal(await home.ok(["exec", name, "--", "whoami"]), "debian\n");
      assert.match(await home.ok(["exec", name, "--", "cat", ".ssh/authorized_keys"]), new RegExp(`^${publicKey.replaceAll("+", "\\+")}$`, "m"));
      assert.equal(await home.ok(["exec", name, "--", "sudo", "-n", "id", "-u"]), "0\n");
      assert.equal(await home.ok(["exec", name, "--", "cat", "/etc/snapvm-test"]), "merged from cloudInit.userData");
      const failing = await home.run(["exec", name, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.deepEqual([failing.code, failing.stdout, failing.stderr], [3, "out\n", "err\n"]);
      assert.equal(await home.ok(["exec", name, "--stdin", "--", "wc", "-c"], { input: "12345" }), "5\n");
      // `snapvm shell` logs in over SSH; without a terminal the login shell reads commands from stdin.
      const shell = await home.run(["shell", name], { input: "echo shell on $(hostname)\nexit 4\n" });
      assert.equal(shell.code, 4, shell.stderr);
      assert.match(shell.stdout, /shell on acc\n$/);

      // The same kernel boot (boot_id) after stop/start proves a restore, not a reboot.
      const bootId = await home.ok(["exec", name, "--", "cat", "/proc/sys/kernel/random/boot_id"]);
      await home.ok(["exec", name, "--", "echo in-memory > /dev/shm/marker"]);
      const iso = join(home.instanceDir(name), "boot", "cidata.iso");
      const isoWritten = statSync(iso).mtimeMs;
      const saved = await home.json<{ action: string }>(["stop", name]);
      assert.equal(saved.action, "saved");
      const resumed = await home.json<StartJson>(["start", name]);
      assert.equal(resumed.status.bootKind, "restore");
      assert.equal((await home.json<Info>(["info", name])).boot?.spec.guestAccess?.port, access.port, "the restore forwards the same port");
      assert.equal(await home.ok(["exec", name, "--", "cat", "/proc/sys/kernel/random/boot_id"]), bootId);
      assert.equal(await home.ok(["exec", name, "--", "cat", "/dev/shm/marker"]), "in-memory\n");
      assert.equal(statSync(iso).mtimeMs, isoWritten, "a restore keeps the cidata ISO the VM booted with");

      await home.ok(["delete", "--force", name]);
      assert.equal(existsSync(home.instanceDir(name)), false);
      assert.deepEqual(home.qemuPids(), []);
    },
  );

  test(
    "qemu-guest-agent: exec without sshd, a restore that does not wait for sshd, the clock exact when start returns, shutdown",
    { timeout: 12 * 60_000 },
    async () => {
      const name = "qga";
      const configFile = join(home.dir, "qga.yaml");
      writeFileSync(
        configFile,
        [`image: ${image}`, "memory: { size: 256M }", "disk: { size: 4G }", `timeouts: { boot: ${BOOT_TIMEOUT_S}, restore: 120 }`, ""].join("\n"),
      );
      await home.ok(["create", name, "--from-file", configFile]);
      await home.ok(["start", name]);
      assert.equal((await home.json<Info>(["info", name])).boot?.spec.qgaSocket, join(home.instanceDir(name), "qga.sock"));
      // Commands go through the agent as the SSH user, in their home: with sshd stopped they still run.
      assert.match(await home.ok(["exec", name, "--", "sudo", "-n", "systemctl", "stop", "ssh.service", "ssh.socket"]), /^$/);
      assert.equal(await home.ok(["exec", name, "--", "sh", "-c", "systemctl is-active ssh.service; true"]), "inactive\n");
      assert.equal(await home.ok(["exec", name, "--", "sh", "-c", "echo $(whoami) $PWD"]), "debian /home/debian\n");
      const failing = await home.run(["exec", name, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.deepEqual([failing.code, failing.stdout, failing.stderr], [3, "out\n", "err\n"]);
      assert.equal(await home.ok(["exec", name, "--stdin", "--", "wc", "-c"], { input: "12345" }), "5\n");

      // Saved with sshd down: a restore that waited for SSH would time out.
      assert.equal((await home.json<{ action: string }>(["stop", name])).action, "saved");
      await new Promise((resolve) => setTimeout(resolve, 21_000));
      assert.equal((await home.json<StartJson>(["start", name])).status.bootKind, "restore");
      // The guest's clock, bracketed by the host's before and after the exec that reads it: the guest
      // read it somewhere in between, so an exact clock lies within the bracket (plus 50 ms).
      const before = Date.now();
      const guestMs = Number(await home.ok(["exec", name, "--", "date", "+%s%3N"]));
      const after = Date.now();
      assert.ok(
        guestMs >= before - 50 && guestMs <= after + 50,
        `guest clock ${guestMs} outside the host's bracket [${before}, ${after}] ± 50 ms (${guestMs - before} ms after its start)`,
      );

      // saveOnStop=false shuts down; the agent asks the guest (sshd is still down, SSH could not).
      await home.ok(["config", "set", name, "saveOnStop=false"]);
      assert.equal((await home.json<{ action: string }>(["stop", name])).action, "shutdown");
      assert.match(await home.ok(["logs", name, "--events"]), /guest powered off \(asked through qemu-guest-agent\)/);
      await home.ok(["delete", "--force", name]);
      assert.deepEqual(home.qemuPids(), []);
    },
  );

  test("direct kernel boot: snapvm.yaml's kernel, initramfs and command line boot the image", { timeout: 12 * 60_000 }, async () => {
    const name = "direct";
    const boot = cloudImageBootFiles(image);
    const cmdline = "root=LABEL=snapvm-root rw console=ttyS0,115200 snapvm.test=direct";
    const configFile = join(home.dir, "direct.yaml");
    writeFileSync(
      configFile,
      [
        `image: ${image}`,
        `boot: { kernel: ${boot.kernel}, initrd: ${boot.initrd}, cmdline: "${cmdline}" }`,
        "memory: { size: 256M }",
        "disk: { size: 4G }",
        `timeouts: { boot: ${BOOT_TIMEOUT_S} }`,
        "",
      ].join("\n"),
    );
    await home.ok(["create", name, "--from-file", configFile]);
    await home.ok(["start", name]);
    assert.deepEqual((await home.json<Info>(["info", name])).boot?.spec.boot, { kind: "kernel", ...boot, cmdline });
    assert.equal(await home.ok(["exec", name, "--", "cat", "/proc/cmdline"]), `${cmdline}\n`);
    await home.ok(["delete", "--force", name]);
    assert.deepEqual(home.qemuPids(), []);
  });

  test("user-data that cannot be merged is refused at create, leaving nothing behind", async () => {
    const configFile = join(home.dir, "script.yaml");
    writeFileSync(configFile, `image: ${image}\ncloudInit:\n  userData: |\n    #!/bin/sh\n    echo hi\n`);
    const result = await home.run(["create", "scripted", "--from-file", configFile]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cloudInit\.userData cannot be used: it starts with "#!\/bin\/sh"; only #cloud-config can be merged.*\[E_INVALID_CONFIG\]/s);
    assert.deepEqual(readdirSync(join(home.dir, "instances")), []);
  });
});
