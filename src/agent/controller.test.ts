import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SaveFigures } from "../api/schemas.ts";
import { instancePaths, parseInstanceName, type InstancePaths } from "../paths/index.ts";
import { sampleManifest } from "../snapshot/compress-fixture.ts";
import { AgentController, type StateOperations } from "./controller.ts";
import { EventLog } from "./events.ts";
import { FakeVm } from "./fake-vm.ts";

const FIGURES: SaveFigures = { pauseMs: 12.5, totalMs: 30, stateBytes: 4096 };

describe("AgentController with a fake VM", () => {
  let home: string;
  before(() => {
    home = mkdtempSync(join(tmpdir(), "snapvm-controller-"));
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
  });
  let count = 0;

  /** A controller over a fresh instance directory, brought to `running` unless told otherwise. */
  async function setUp(
    options: { saveOnStop?: boolean; operations?: Partial<StateOperations>; running?: boolean } = {},
  ): Promise<{ c: AgentController; vm: FakeVm; paths: InstancePaths; states: () => string[] }> {
    const paths = instancePaths(parseInstanceName(`vm${++count}`), home);
    mkdirSync(paths.dir, { recursive: true });
    const vm = new FakeVm();
    const c = new AgentController({
      name: `vm${count}`,
      paths,
      vm,
      launch: sampleManifest().launch,
      status: { qemuPid: 0 },
      initialState: "starting",
      settings: { saveOnStop: options.saveOnStop ?? false, shutdownMs: 1000, restoreMs: 1000 },
      events: new EventLog(paths.events),
      operations: { saveState: () => Promise.resolve(FIGURES), ...options.operations },
    });
    if (options.running !== false) await c.setState("running");
    const states = (): string[] =>
      readFileSync(paths.events, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; state?: string })
        .filter((e) => e.event === "state")
        .map((e) => e.state ?? "");
    return { c, vm, paths, states };
  }

  const recorded = (paths: InstancePaths): { state: string; lastEvent?: string } =>
    JSON.parse(readFileSync(paths.status, "utf8")) as { state: string; lastEvent?: string };

  it("stop (auto, saveOnStop false): running → stopping → stopped, QEMU powered down, finished", async () => {
    const { c, vm, paths, states } = await setUp();
    const r = await c.stop({ mode: "auto" });
    assert.equal(r.action, "shutdown");
    await c.finished;
    assert.deepEqual(states(), ["running", "stopping", "stopped"]);
    assert.deepEqual(recorded(paths), { ...recorded(paths), state: "stopped", lastEvent: "guest powered off" });
    assert.deepEqual(vm.calls, ["powerdown"]);
  });

  it("stop (auto, saveOnStop true) saves: running → saving → suspended, then QEMU quits; a second stop gets the same result", async () => {
    const { c, vm, states } = await setUp({ saveOnStop: true });
    const [a, b] = [c.stop({ mode: "auto" }), c.stop({ mode: "save" })];
    assert.equal(a, b, "one stop under way: the same promise");
    assert.deepEqual(await a, { action: "saved", save: FIGURES, totalMs: (await a).totalMs });
    assert.deepEqual(states(), ["running", "saving", "suspended"]);
    assert.deepEqual(vm.calls, ["quit"]);
  });

  it("save returns the figures; a failed save resumes running and a later stop is accepted", async () => {
    let fail = true;
    const { c, states } = await setUp({ operations: { saveState: () => (fail ? Promise.reject(new Error("disk full")) : Promise.resolve(FIGURES)) } });
    await assert.rejects(c.save(), { message: "disk full" });
    assert.equal(c.status().state, "running");
    fail = false;
    assert.deepEqual(await c.save(), FIGURES);
    assert.deepEqual(states(), ["running", "saving", "running", "saving", "suspended"]);
  });

  it("force preempts a stuck save: QEMU killed, the save fails, the instance is stopped (not running again)", async () => {
    const { c, vm, paths, states } = await setUp({
      // Like the real save: it ends only when QEMU does.
      operations: { saveState: (v) => v.exited.then(() => Promise.reject(new Error("QEMU exited during the save"))) },
    });
    const saving = assert.rejects(c.save(), { message: "QEMU exited during the save" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(c.status().state, "saving");
    const forced = await c.stop({ mode: "force" });
    assert.equal(forced.action, "killed");
    await saving;
    await c.finished;
    assert.deepEqual(states(), ["running", "saving", "stopped"]);
    assert.equal(recorded(paths).lastEvent, "killed by snapvm stop --force");
    assert.deepEqual(vm.calls, ["kill"]);
    assert.equal(c.stop({ mode: "force" }), c.stop({ mode: "force" }), "force is idempotent");
  });

  it("exec runs in the guest while running, and is refused otherwise", async () => {
    const { c } = await setUp();
    const r = await c.exec({ command: "uname", stdinBase64: Buffer.from("in").toString("base64") });
    assert.deepEqual({ ...r, stdoutBase64: Buffer.from(r.stdoutBase64, "base64").toString() }, { exitCode: 0, stdoutBase64: "echo:uname", stderrBase64: "" });
    await c.stop({ mode: "shutdown" });
    await assert.rejects(c.exec({ command: "uname" }), { code: "E_INSTANCE_NOT_RUNNING", message: `instance "vm${count}" is stopped; cannot run a command` });
  });

  it("snapshot is refused while not running (still starting), and goes to the live-snapshot step when running", async () => {
    const tags: string[] = [];
    const { c, paths } = await setUp({
      running: false,
      operations: {
        liveSnapshot: (_vm, _launch, _paths, tag) => {
          tags.push(tag);
          return Promise.resolve({ tag, pauseMs: 3, totalMs: 9, memoryCopy: "reflink", allocatedBytes: 1 });
        },
      },
    });
    await assert.rejects(c.snapshot({ tag: "warm" }), { code: "E_INSTANCE_NOT_RUNNING", message: `instance "vm${count}" is starting; cannot snapshot it` });
    await assert.rejects(c.snapshot({ tag: "../x" }), { code: "E_INVALID_NAME" });
    await c.setState("running");
    assert.equal((await c.snapshot({ tag: "warm" })).pauseMs, 3);
    assert.deepEqual(tags, ["warm"]);
    assert.match(readFileSync(paths.events, "utf8"), /"event":"snapshot","tag":"warm","pauseMs":3,"memoryCopy":"reflink"/);
  });

  it("QEMU exiting on its own: a clean exit is stopped (the guest powered off), a crash is broken with QEMU's reason", async () => {
    const clean = await setUp();
    clean.vm.exit(0);
    await clean.c.finished;
    assert.deepEqual([recorded(clean.paths).state, recorded(clean.paths).lastEvent], ["stopped", "the guest powered off"]);

    const crash = await setUp();
    crash.vm.exit(null, "SIGSEGV", "QEMU died of SIGSEGV");
    await crash.c.finished;
    assert.deepEqual([recorded(crash.paths).state, recorded(crash.paths).lastEvent], ["broken", "QEMU died of SIGSEGV"]);
    assert.match(readFileSync(crash.paths.events, "utf8"), /"event":"qemu-exit","code":null,"signal":"SIGSEGV","reason":"QEMU died of SIGSEGV"/);
    await assert.rejects(crash.c.stop({ mode: "auto" }), { code: "E_INSTANCE_NOT_RUNNING" });
  });

  it("PATCH saveOnStop applies at once and outlives settings adopted later", async () => {
    const { c } = await setUp();
    assert.deepEqual(c.patchConfig({ saveOnStop: true }), { saveOnStop: true });
    c.adoptSettings({ saveOnStop: false, shutdownMs: 5, restoreMs: 5 });
    assert.equal(c.status().saveOnStop, true);
    assert.equal((await c.stop({ mode: "auto" })).action, "saved");
  });
});
