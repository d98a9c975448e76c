import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TestHome } from "./harness.ts";
import { processAlive } from "../../src/util/process-alive.ts";

interface StartJson {
  status: { bootKind: string; state: string };
  notices: string[];
}
interface InfoJson {
  state: string;
  note?: string;
}

/** Pids of QEMU processes of one instance (its directory is in their argv). */
function qemuOf(home: TestHome, name: string): number[] {
  const dir = `${home.instanceDir(name)}/`;
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .flatMap((e) => {
      try {
        const cmdline = readFileSync(`/proc/${e}/cmdline`, "utf8");
        return cmdline.includes("qemu-system") && cmdline.includes(dir) ? [Number(e)] : [];
      } catch {
        return []; // ended meanwhile
      }
    });
}

function agentPid(home: TestHome, name: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(home.instanceDir(name), "agent.lock"), "utf8"), 10);
    return Number.isSafeInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function hiddenTemps(home: TestHome): string[] {
  return readdirSync(join(home.dir, "instances")).filter((e) => e.startsWith(".") && /\.(tmp|import|delete)-/.test(e));
}

/** The source and its snapshot, as they were: the snapshot's files and a restore-ready manifest. */
async function assertSourceIntact(home: TestHome): Promise<void> {
  const info = await home.json<{ tag: string; hasMemory: boolean }>(["snapshot", "info", "src", "s1"]);
  assert.equal(info.tag, "s1");
  assert.equal(info.hasMemory, true);
  assert.ok(existsSync(join(home.instanceDir("src"), "snapshots", "s1", "memory.ram")));
  assert.equal((await home.json<InfoJson>(["info", "src"])).state, "suspended");
}

/**
 * kill -9 of `snapvm fork SRC@TAG NAME --count 2` while the forks' directories are built and while
 * they start: no hidden temp directory survives the next list or fork, the source and its snapshot
 * are intact, a fork that was fully built starts, and the same fork works again after clean-up.
 */
describe("a fork killed midway", () => {
  let home: TestHome;
  before(async () => {
    home = new TestHome();
    await home.ok(["create", "src", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "src"]);
    await home.ok(["snapshot", "create", "src", "s1"]);
    await home.ok(["stop", "src"]);
  });
  after(async () => {
    await home.cleanup();
  });

  test("killed once one fork's directory is built: the other's temp dir goes, the built one starts", async () => {
    const killed = await home.run(["fork", "src@s1", "fa", "--count", "2"], { env: { SNAPVM_FAULT_POINT: "fork:built-one" } });
    assert.notEqual(killed.code, 0, "the fork command died");
    const list = await home.json<{ name: string; state: string }[]>(["list"]);
    assert.deepEqual(hiddenTemps(home), [], "list removed the dead fork's temp directories");
    const built = list.filter((i) => i.name.startsWith("fa-"));
    // The forks are built in parallel: the other one may finish in the same instant as the first, before
    // the SIGKILL lands (seen once in five runs). Either way every fork that exists must be whole.
    assert.ok(built.length >= 1 && built.length <= 2, `one or both forks were fully built: ${JSON.stringify(list)}`);
    for (const other of built) assert.equal(other.state, "suspended", `${other.name} is whole`);
    const [fork] = built;
    assert.ok(fork !== undefined);
    assert.equal(fork.state, "suspended");
    await assertSourceIntact(home);
    assert.equal((await home.json<StartJson>(["start", fork.name])).status.bootKind, "restore");
    assert.equal((await home.ok(["exec", fork.name, "--", "hostname"])).trim(), fork.name);
    for (const whole of built) await home.ok(["delete", "--force", whole.name]);
    const again = await home.json<{ forks: { name: string }[] }>(["fork", "src@s1", "fa", "--count", "2"]);
    assert.deepEqual(again.forks.map((f) => f.name).sort(), ["fa-1", "fa-2"]);
    for (const name of ["fa-1", "fa-2"]) assert.equal((await home.ok(["exec", name, "--", "hostname"])).trim(), name);
    for (const name of ["fa-1", "fa-2"]) await home.ok(["delete", "--force", name]);
    await assertSourceIntact(home);
  });

  test("killed once one fork's agent is up: both forks come up, and the same fork works after they are deleted", async () => {
    const killed = await home.run(["fork", "src@s1", "fb", "--count", "2"], { env: { SNAPVM_FAULT_POINT: "fork:started-one" } });
    assert.notEqual(killed.code, 0, "the fork command died");
    assert.deepEqual(hiddenTemps(home), []);
    for (const name of ["fb-1", "fb-2"]) {
      // The agents are detached: the one still restoring when the command died finishes on its own.
      // The forks start in parallel: when the first answers and the command dies, the other's agent may not
      // have been spawned yet (it failed once that way). Then that fork is whole but suspended, and starts.
      let state = await until(`${name} to come up`, async () => {
        const info = await home.json<InfoJson>(["info", name]);
        return info.state === "starting" || info.state === "restoring" ? undefined : info.state;
      });
      if (state === "suspended") {
        await home.ok(["start", name]);
        state = (await home.json<InfoJson>(["info", name])).state;
      }
      assert.equal(state, "running", `${name} is running`);
      assert.equal((await home.ok(["exec", name, "--", "hostname"])).trim(), name);
    }
    await home.json(["list"]);
    assert.deepEqual(hiddenTemps(home), []);
    await assertSourceIntact(home);
    for (const name of ["fb-1", "fb-2"]) await home.ok(["delete", "--force", name]);
    assert.equal(qemuOf(home, "fb-1").length + qemuOf(home, "fb-2").length, 0);
    const again = await home.json<{ forks: { name: string }[] }>(["fork", "src@s1", "fb", "--count", "2", "--no-start"]);
    assert.deepEqual(again.forks.map((f) => f.name).sort(), ["fb-1", "fb-2"]);
    for (const name of ["fb-1", "fb-2"]) await home.ok(["delete", name]);
  });
});

describe("stop --force and signals preempt anything", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("stop --force during a save stuck after the pause: returns within seconds, QEMU gone, stopped, next start cold boots", async () => {
    const name = "stuck";
    await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", name], { env: { SNAPVM_FAULT_WAIT: "save:after-stop" } });
    const hung = home.run(["stop", name]);
    await until("the save to start", async () => ((await home.json<InfoJson>(["info", name])).state === "saving" ? true : undefined));
    await sleep(500);
    const t0 = performance.now();
    const forced = await home.json<{ action: string }>(["stop", "--force", name]);
    const forceMs = performance.now() - t0;
    assert.equal(forced.action, "killed");
    assert.ok(forceMs < 10_000, `stop --force took ${Math.round(forceMs)} ms`);
    const first = await hung;
    assert.notEqual(first.code, 0, "the preempted stop fails");
    assert.deepEqual(qemuOf(home, name), []);
    const info = await home.json<InfoJson>(["info", name]);
    assert.equal(info.state, "stopped");
    assert.equal(existsSync(join(home.instanceDir(name), "suspend")), false, "no suspend state");
    assert.equal((await home.json<StartJson>(["start", name])).status.bootKind, "cold");
    assert.deepEqual(
      readdirSync(home.instanceDir(name)).filter((e) => e.includes(".tmp-")),
      [],
      "the save's temp dir was cleaned up",
    );
    assert.equal((await home.ok(["exec", name, "--", "echo", "up"])).trim(), "up");
    await home.ok(["delete", "--force", name]);
  });

  test("SIGTERM to the agent while the guest cold boots: no QEMU left, not running, the next start works", async () => {
    const name = "sigterm";
    await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
    const starting = home.run(["start", name]);
    const agent = await until("QEMU and its agent", () => (qemuOf(home, name).length > 0 ? agentPid(home, name) : undefined), 30_000);
    process.kill(agent, "SIGTERM");
    const result = await starting;
    assert.notEqual(result.code, 0, "the start failed: the signal came during bring-up");
    await until("the agent to exit", () => (processAlive(agent) ? undefined : true), 20_000);
    assert.deepEqual(qemuOf(home, name), [], "QEMU was stopped with the agent");
    const info = await home.json<InfoJson>(["info", name]);
    assert.equal(info.state, "stopped", `state ${info.state} (start: ${result.stderr})`);
    assert.equal((await home.json<StartJson>(["start", name])).status.state, "running");
    assert.equal((await home.ok(["exec", name, "--", "echo", "up"])).trim(), "up");
    await home.ok(["delete", "--force", name]);
  });
});

describe("re-adoption by the next command that needs the agent", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("kill -9 of the agent, then exec re-adopts (memory intact); again, snapshot create snapshots live; again, stop saves", async () => {
    const name = "readopt";
    await home.ok(["create", name, "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", name]);
    const sum = await home.ok(["exec", name, "--", "dd if=/dev/urandom of=/dev/shm/ram.bin bs=1M count=32 2>/dev/null && md5sum /dev/shm/ram.bin"]);
    const killAgent = async (): Promise<void> => {
      const pid = agentPid(home, name);
      assert.ok(pid !== undefined);
      process.kill(pid, "SIGKILL");
      await until("the agent to die", () => (processAlive(pid) ? undefined : true), 10_000);
      const info = await home.json<InfoJson>(["info", name]);
      assert.equal(info.state, "running");
      assert.match(info.note ?? "", /orphaned/);
    };
    await killAgent();
    assert.equal(await home.ok(["exec", name, "--", "md5sum /dev/shm/ram.bin"]), sum, "exec re-adopted the guest, memory intact");
    assert.equal(qemuOf(home, name).length, 1);
    await killAgent();
    const snap = await home.json<{ pauseMs: number }>(["snapshot", "create", name, "s1"]);
    assert.ok(snap.pauseMs > 0, "snapshot create re-adopted the guest and snapshotted it live");
    await killAgent();
    assert.equal((await home.json<{ action: string }>(["stop", name])).action, "saved", "stop re-adopted and saved");
    assert.deepEqual(qemuOf(home, name), []);
    assert.equal((await home.json<StartJson>(["start", name])).status.bootKind, "restore");
    assert.equal(await home.ok(["exec", name, "--", "md5sum /dev/shm/ram.bin"]), sum);
    await home.ok(["delete", "--force", name]);
  });
});
