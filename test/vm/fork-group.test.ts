import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { TestHome } from "./harness.ts";
import { processAlive } from "../../src/util/process-alive.ts";

interface InfoJson {
  state: string;
  agentPid?: number;
  note?: string;
}
interface StartJson {
  status: { bootKind: string };
  notices: string[];
}
interface ForkJson {
  forks: { name: string; started?: { status: { agentPid?: number; bootKind: string } }; failed?: { code: string; message: string } }[];
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const SUM = "md5sum /dev/shm/ram.bin";

/**
 * `fork --count N` starts its forks served by one agent process (a fork group), each fork still its
 * own instance: its own /v1 socket, lock and QEMU, stopped, saved, re-adopted and failing on its own.
 */
describe("a fork group served by one agent process", () => {
  let home: TestHome;
  let before_: string;
  before(async () => {
    home = new TestHome();
    await home.ok(["create", "src", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "src"]);
    before_ = await home.ok(["exec", "src", "--", `dd if=/dev/urandom of=/dev/shm/ram.bin bs=1M count=16 2>/dev/null && ${SUM}`]);
    await home.ok(["snapshot", "create", "src", "s1"]);
    await home.ok(["stop", "src"]);
  });
  after(async () => {
    await home.cleanup();
  });

  test("one agent serves the forks; one stops alone; the agent killed, the guests run on and are re-adopted with their memory", async () => {
    const forked = await home.json<ForkJson>(["fork", "src@s1", "g", "--count", "3"]);
    const agents = new Set(forked.forks.map((f) => f.started?.status.agentPid));
    assert.equal(agents.size, 1, `one agent process for the group: ${JSON.stringify([...agents])}`);
    const [agent] = agents;
    assert.ok(agent !== undefined);
    for (const name of ["g-1", "g-2", "g-3"]) {
      assert.equal((await home.ok(["exec", name, "--", "hostname"])).trim(), name);
      assert.equal(await home.ok(["exec", name, "--", SUM]), before_);
    }

    assert.equal((await home.json<{ action: string }>(["stop", "g-2"])).action, "saved");
    assert.equal((await home.json<InfoJson>(["info", "g-2"])).state, "suspended");
    assert.ok(processAlive(agent), "the agent lives on for the other forks");
    assert.equal((await home.ok(["exec", "g-1", "--", "echo", "up"])).trim(), "up");

    process.kill(agent, "SIGKILL");
    await until("the agent to die", () => Promise.resolve(!processAlive(agent)));
    for (const name of ["g-1", "g-3"]) {
      const info = await home.json<InfoJson>(["info", name]);
      assert.equal(info.state, "running", `${name}'s guest runs on`);
      assert.match(info.note ?? "", /orphaned/);
    }
    // exec re-adopts g-1 on the way; start re-adopts g-3.
    assert.equal(await home.ok(["exec", "g-1", "--", SUM]), before_);
    assert.match((await home.json<StartJson>(["start", "g-3"])).notices.join("; "), /re-adopted the running VM/);
    assert.equal(await home.ok(["exec", "g-3", "--", SUM]), before_);
    assert.equal((await home.json<StartJson>(["start", "g-2"])).status.bootKind, "restore");
    assert.equal(await home.ok(["exec", "g-2", "--", SUM]), before_);
    for (const name of ["g-1", "g-2", "g-3"]) await home.ok(["delete", "--force", name]);
    assert.deepEqual(home.qemuPids(), []);
  });

  test("SIGTERM to the group's agent stops every fork per its saveOnStop", async () => {
    const forked = await home.json<ForkJson>(["fork", "src@s1", "h", "--count", "2"]);
    const agent = forked.forks[0]?.started?.status.agentPid;
    assert.ok(agent !== undefined);
    await home.json(["config", "set", "h-2", "saveOnStop=false"]);
    process.kill(agent, "SIGTERM");
    await until(
      "the forks to stop",
      async () => (await home.json<InfoJson>(["info", "h-1"])).state === "suspended" && (await home.json<InfoJson>(["info", "h-2"])).state === "stopped",
    );
    await until("the agent to exit", () => Promise.resolve(!processAlive(agent)), 20_000);
    assert.equal((await home.json<StartJson>(["start", "h-1"])).status.bootKind, "restore");
    assert.equal(await home.ok(["exec", "h-1", "--", SUM]), before_);
    for (const name of ["h-1", "h-2"]) await home.ok(["delete", "--force", name]);
  });

  test("one fork failing to come up fails alone, with its reason; the output says which started", async () => {
    const run = await home.run(["fork", "src@s1", "k", "--count", "3", "--json"], { env: { SNAPVM_FAIL_POINT: "agent:bring-up:k-2" } });
    assert.equal(run.code, 1, "not every fork started");
    const result = JSON.parse(run.stdout) as ForkJson;
    assert.deepEqual(
      result.forks.map((f) => [f.name, f.started !== undefined, f.failed?.code]),
      [
        ["k-1", true, undefined],
        ["k-2", false, "E_AGENT_FAILED"],
        ["k-3", true, undefined],
      ],
    );
    assert.match(result.forks[1]?.failed?.message ?? "", /injected failure at agent:bring-up:k-2/);
    for (const name of ["k-1", "k-3"]) assert.equal(await home.ok(["exec", name, "--", SUM]), before_);
    const text = await home.run(["fork", "src@s1", "m", "--count", "2"], { env: { SNAPVM_FAIL_POINT: "agent:bring-up:m-1" } });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /1 started, 1 failed/);
    assert.match(text.stdout, /m-1 failed to start \(E_AGENT_FAILED\): injected failure at agent:bring-up:m-1/);
    for (const name of ["k-1", "k-2", "k-3", "m-1", "m-2"]) await home.ok(["delete", "--force", name]);
    assert.deepEqual(home.qemuPids(), []);
  });
});
