import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inspectEntry, inspectInstance, listInstanceEntries } from "./inspect.ts";
import { MANIFEST_NAME, instancePaths, parseInstanceName, type InstanceName } from "../paths/index.ts";

describe("inspectInstance: the state from the files", () => {
  let home: string;
  let fakeQemu: ChildProcess | undefined;
  before(() => {
    home = mkdtempSync(join(tmpdir(), "snapvm-inspect-"));
  });
  after(() => {
    fakeQemu?.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  });

  /** An instance directory with snapvm.yaml and, optionally, a status.json. */
  const instance = (text: string, status?: Record<string, unknown>): InstanceName => {
    const name = parseInstanceName(text);
    const paths = instancePaths(name, home);
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(paths.config, "cpus: 1\n");
    if (status !== undefined) writeFileSync(paths.status, JSON.stringify({ updatedAt: "2026-12-02T10:00:00.000Z", ...status }));
    return name;
  };

  it("an unknown instance is E_INSTANCE_NOT_FOUND", async () => {
    await assert.rejects(inspectInstance(parseInstanceName("nope"), home), { code: "E_INSTANCE_NOT_FOUND", message: 'instance "nope" does not exist' });
  });

  it("created: a config and nothing else (an unreadable status too)", async () => {
    assert.equal((await inspectInstance(instance("fresh"), home)).state, "created");
    const garbled = instance("garbled");
    writeFileSync(instancePaths(garbled, home).status, "{not json");
    assert.equal((await inspectInstance(garbled, home)).state, "created");
  });

  it("suspended: a suspend manifest, with its age and allocated bytes", async () => {
    const name = instance("napping", { state: "suspended" });
    const paths = instancePaths(name, home);
    mkdirSync(paths.suspendDir);
    writeFileSync(join(paths.suspendDir, MANIFEST_NAME), JSON.stringify({ createdAt: "2026-12-02T09:00:00.000Z" }));
    writeFileSync(paths.memory, Buffer.alloc(8192, 1));
    const s = await inspectInstance(name, home);
    assert.equal(s.state, "suspended");
    assert.ok(s.suspended !== undefined);
    assert.equal(s.suspended.createdAt, "2026-12-02T09:00:00.000Z");
    assert.ok(s.suspended.allocatedBytes >= 8192, "the RAM file counts");
  });

  it("stopped: the last agent recorded a clean stop", async () => {
    assert.equal((await inspectInstance(instance("halted", { state: "stopped" }), home)).state, "stopped");
  });

  it("broken, with the reason: the agent is gone but the status says running, and no QEMU runs", async () => {
    const s = await inspectInstance(instance("crashed", { state: "running", qemuPid: 2 ** 22 + 7 }), home);
    assert.deepEqual([s.state, s.note, s.agentPid], ["broken", "its agent exited while running", undefined]);
  });

  it("orphaned: the agent is gone but its QEMU (argv naming the QMP socket) runs: shown running", async () => {
    const name = parseInstanceName("orphan");
    const paths = instancePaths(name, home);
    // A stand-in QEMU: any live process whose command line names the instance's QMP socket.
    fakeQemu = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)", paths.qmpSocket], { stdio: "ignore" });
    const pid = fakeQemu.pid ?? 0;
    instance("orphan", { state: "running", qemuPid: pid });
    const s = await inspectInstance(name, home);
    assert.equal(s.state, "running");
    assert.equal(s.orphanedQemuPid, pid);
    assert.match(s.note ?? "", new RegExp(`orphaned: its agent died while running; QEMU pid ${pid} still runs`));
  });

  it("a live agent (the lock's owner) makes the recorded state true", async () => {
    const name = instance("live", { state: "saving" });
    writeFileSync(instancePaths(name, home).agentLock, String(process.pid));
    const s = await inspectInstance(name, home);
    assert.deepEqual([s.state, s.agentPid], ["saving", process.pid]);
    writeFileSync(instancePaths(name, home).status, "");
    assert.equal((await inspectInstance(name, home)).state, "starting", "an agent with no status yet is starting");
  });

  it("list entries: a bad name or a directory without snapvm.yaml is broken with the reason; hidden ones are skipped", async () => {
    const dir = join(home, "instances");
    mkdirSync(join(dir, "Bad Name"));
    mkdirSync(join(dir, "empty"));
    mkdirSync(join(dir, ".fork-tmp"));
    const entries = await listInstanceEntries(home);
    assert.ok(!entries.some((e) => e.entry === ".fork-tmp"));
    const bad = entries.find((e) => e.entry === "Bad Name");
    const empty = entries.find((e) => e.entry === "empty");
    assert.ok(bad !== undefined && empty !== undefined);
    const badSummary = await inspectEntry(bad, home);
    assert.equal(badSummary.state, "broken");
    assert.match(badSummary.reason ?? "", /./);
    assert.deepEqual(await inspectEntry(empty, home), { name: "empty", state: "broken", dir: join(dir, "empty"), reason: "no snapvm.yaml in the directory" });
  });
});
