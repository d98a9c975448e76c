import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { TestHome } from "./harness.ts";

interface Info {
  state: string;
  status?: { qemuPid?: number; accel?: string };
  boot?: { spec: { accel: string }; accelReason: string };
}

describe("instance lifecycle on the real tiny guest", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("create → start → exec → stop → delete", async () => {
    await home.ok(["create", "life", "--memory", "256M", "--disk", "1G"]);
    const started = await home.json<{ status: { state: string; bootKind: string } }>(["start", "life"]);
    assert.equal(started.status.state, "running");
    assert.equal(started.status.bootKind, "cold");
    assert.match(await home.ok(["exec", "life", "--", "uname", "-r"]), /^\d+\.\d+\.\d+-\d+-amd64\n$/);

    const failing = await home.run(["exec", "life", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.deepEqual([failing.code, failing.stdout, failing.stderr], [3, "out\n", "err\n"]);
    assert.equal(await home.ok(["exec", "life", "--stdin", "--", "wc", "-c"], { input: "12345" }), "5\n");

    const info = await home.json<Info>(["info", "life"]);
    assert.ok(info.boot !== undefined);
    assert.equal(info.boot.spec.accel, "tcg");
    assert.match(info.boot.accelReason, /TCG because|accel: tcg/);

    const stopped = await home.json<{ action: string }>(["stop", "life", "--no-save"]);
    assert.equal(stopped.action, "shutdown");
    assert.equal((await home.json<Info>(["info", "life"])).state, "stopped");
    assert.deepEqual(home.qemuPids(), []);
    await home.ok(["delete", "life"]);
    assert.equal(existsSync(home.instanceDir("life")), false);
  });

  test("bad input is refused with a clear error and writes nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["create", "Bad_Name"], /invalid instance name "Bad_Name".*\[E_INVALID_NAME\]/s],
      [["create", "m", "--memory", "12Q"], /invalid size.*\[E_INVALID_ARGUMENT\]/s],
      [["create", "m", "--memory", "32M"], /memory\.size.*\[E_INVALID_CONFIG\]/s],
      [["create", "p", "--port", "99999:80"], /invalid port forward "99999:80".*\[E_INVALID_ARGUMENT\]/s],
      [["create", "i", "--image", "/nonexistent/cloud.qcow2"], /does not exist.*\[E_INVALID_ARGUMENT\]/s],
    ];
    for (const [args, message] of cases) {
      const result = await home.run(args);
      assert.equal(result.code, 1, args.join(" "));
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "user errors print without a stack");
    }
    assert.deepEqual(readdirSync(`${home.dir}/instances`), []);

    await home.ok(["create", "twice", "--memory", "256M"]);
    const again = await home.run(["create", "twice"]);
    assert.match(again.stderr, /instance "twice" already exists.*\[E_INSTANCE_EXISTS\]/s);
    await home.ok(["delete", "twice"]);
  });

  test("a QEMU that dies is recorded, and the instance starts again", async () => {
    await home.ok(["create", "crash", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["config", "set", "crash", "saveOnStop=false"]);
    await home.ok(["start", "crash"]);
    const pid = (await home.json<Info>(["info", "crash"])).status?.qemuPid;
    assert.ok(pid !== undefined);
    process.kill(pid, "SIGKILL");
    let state = "";
    for (let i = 0; i < 100 && state !== "broken"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await home.json<Info>(["info", "crash"])).state;
    }
    assert.equal(state, "broken");
    const events = await home.ok(["logs", "crash", "--events"]);
    assert.match(events, /"event":"qemu-exit".*killed by SIGKILL/);
    const exec = await home.run(["exec", "crash", "--", "true"]);
    assert.match(exec.stderr, /instance "crash" is not running \(broken\).*\[E_INSTANCE_NOT_RUNNING\]/s);
    await home.ok(["start", "crash"]);
    assert.equal(await home.ok(["exec", "crash", "--", "echo", "back"]), "back\n");
    await home.ok(["delete", "--force", "crash"]);
  });

  test("two starts at once: one boots, the other is refused", async () => {
    await home.ok(["create", "race", "--memory", "256M", "--disk", "1G"]);
    const [a, b] = await Promise.all([home.run(["start", "race"]), home.run(["start", "race"])]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 1 ? a : b;
    assert.match(loser.stderr, /\[E_INSTANCE_(LOCKED|RUNNING)\]/);
    assert.equal(home.qemuPids().length, 1);
    await home.ok(["delete", "--force", "race"]);
  });

  test("delete refuses a running instance unless forced, and leaves no QEMU", async () => {
    await home.ok(["create", "del", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "del"]);
    const refused = await home.run(["delete", "del"]);
    assert.match(refused.stderr, /instance "del" is running; refusing to delete it.*\[E_INSTANCE_RUNNING\]/s);
    await home.ok(["delete", "--force", "del"]);
    assert.equal(existsSync(home.instanceDir("del")), false);
    assert.deepEqual(home.qemuPids(), []);
  });
});
