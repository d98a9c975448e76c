import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { TestHome } from "./harness.ts";

interface StartJson {
  status: { bootKind: string };
  fromState?: string;
}
interface ErrorJson {
  error: { code: string; message: string; hint?: string; details: { port?: number; holder?: { pid: number } } };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function hold(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port }, resolve));
  return server;
}

/** Everything in a state directory, by name: sizes, and contents for all but the RAM file (sized and timed). */
function fingerprint(dir: string, ram: string): string {
  const files = readdirSync(dir)
    .sort()
    .map(
      (f) =>
        `${f}:${createHash("sha256")
          .update(readFileSync(join(dir, f)))
          .digest("hex")}`,
    );
  const r = statSync(ram);
  return [...files, `ram:${r.size}:${r.blocks}:${r.mtimeMs}`].join("\n");
}

describe("host resources a restore needs", () => {
  let home: TestHome;
  let holder: Server | undefined;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    if (holder !== undefined) await new Promise((resolve) => holder?.close(resolve));
    await home.cleanup();
  });

  test("a taken forwarded port refuses the start with E_PORT_IN_USE and leaves the state; freed, the start restores memory", async () => {
    const port = await freePort();
    await home.ok(["create", "held", "--memory", "256M", "--disk", "1G", "--port", `${port}:80`]);
    assert.match(await home.ok(["info", "held"]), new RegExp(`ports: +127\\.0\\.0\\.1:${port} → 80 \\(snapvm\\.yaml; not booted yet\\)`));
    await home.ok(["start", "held"]);
    const before = await home.ok(["exec", "held", "--", "dd if=/dev/urandom of=/tmp/ram.bin bs=1M count=16 2>/dev/null && md5sum /tmp/ram.bin"]);
    assert.match(await home.ok(["info", "held"]), new RegExp(`ports: +127\\.0\\.0\\.1:${port} → 80`));
    await home.ok(["stop", "held"]);
    const dir = home.instanceDir("held");
    const saved = fingerprint(join(dir, "suspend"), join(dir, "memory.ram"));

    // Another instance may not take the port for itself.
    const claimed = await home.run(["create", "other", "--port", `${port}:81`]);
    assert.match(claimed.stderr, new RegExp(`host port 127\\.0\\.0\\.1:${port}/tcp is already forwarded by instance "held".*\\[E_PORT_IN_USE\\]`, "s"));

    holder = await hold(port);
    const refused = await home.run(["start", "held", "--json"]);
    assert.equal(refused.code, 1, refused.stderr);
    const { error } = JSON.parse(refused.stdout) as ErrorJson;
    assert.equal(error.code, "E_PORT_IN_USE");
    assert.match(
      error.message,
      new RegExp(
        `^instance "held" cannot start: host port 127\\.0\\.0\\.1:${port}/tcp \\(forwarded to guest port 80\\) is in use by pid ${process.pid} \\(.*\\); its saved state was left as it was$`,
      ),
    );
    assert.equal(error.details.port, port);
    assert.equal(error.details.holder?.pid, process.pid);
    assert.match(error.hint ?? "", /snapvm start held/);
    const plain = await home.run(["start", "held"]);
    assert.match(plain.stderr, /is in use by pid \d+ .*\[E_PORT_IN_USE\]\n {2}hint: Free the port/s);

    assert.equal(fingerprint(join(dir, "suspend"), join(dir, "memory.ram")), saved, "the saved state is exactly as it was");
    assert.equal(existsSync(join(dir, "failed-states")), false, "nothing was moved aside");
    assert.deepEqual(home.qemuPids(), [], "no QEMU was left running");
    assert.equal((await home.json<{ state: string }>(["info", "held"])).state, "suspended");

    await new Promise((resolve) => holder?.close(resolve));
    holder = undefined;
    const resumed = await home.json<StartJson>(["start", "held"]);
    assert.equal(resumed.status.bootKind, "restore", "restored, not cold booted");
    assert.equal(await home.ok(["exec", "held", "--", "md5sum /tmp/ram.bin"]), before, "memory intact");
    await home.ok(["delete", "--force", "held"]);
  });

  test("a state kept aside (as an older snapvm did when the port was taken) is listed and restored with --state failed:ID", async () => {
    await home.ok(["create", "kept", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "kept"]);
    const before = await home.ok(["exec", "kept", "--", "dd if=/dev/urandom of=/tmp/ram.bin bs=1M count=8 2>/dev/null && md5sum /tmp/ram.bin"]);
    await home.ok(["stop", "kept"]);
    const dir = home.instanceDir("kept");
    const id = "2026-12-01T10-00-00.000Z";
    mkdirSync(join(dir, "failed-states"));
    renameSync(join(dir, "suspend"), join(dir, "failed-states", id));
    renameSync(join(dir, "memory.ram"), join(dir, "failed-states", id, "memory.ram"));
    writeFileSync(join(dir, "failed-states", id, "REASON"), "E_QMP_CLOSED QMP socket closed before sending a greeting\n");

    const listed = await home.json<{ states: { instance: string; id: string; restorable: { ok: boolean } }[] }>(["state", "list"]);
    assert.deepEqual(
      listed.states.map((s) => [s.instance, s.id, s.restorable.ok]),
      [["kept", id, true]],
    );
    assert.match(await home.ok(["info", "kept"]), /kept: {5}1 failed state/);

    const resumed = await home.json<StartJson>(["start", "kept", "--state", `failed:${id}`]);
    assert.equal(resumed.status.bootKind, "restore");
    assert.equal(resumed.fromState, id);
    assert.equal(await home.ok(["exec", "kept", "--", "md5sum /tmp/ram.bin"]), before, "memory intact");
    assert.deepEqual(readdirSync(join(dir, "failed-states")), []);

    // Once the instance has cold booted, an old state no longer fits its disk: listed, refused, pruned.
    await home.ok(["stop", "--no-save", "kept"]);
    mkdirSync(join(dir, "failed-states", id));
    writeFileSync(join(dir, "failed-states", id, "manifest.json"), "{}");
    writeFileSync(join(dir, "failed-states", id, "REASON"), "old\n");
    await home.ok(["restart", "kept"]);
    await home.ok(["stop", "--no-save", "kept"]);
    const refused = await home.run(["start", "kept", "--state", "failed:latest"]);
    assert.match(refused.stderr, /cannot be restored faithfully: the instance booted since .*\[E_INVALID_TRANSITION\]/s);
    const pruned = await home.json<{ removed: { id: string }[] }>(["state", "prune", "kept"]);
    assert.deepEqual(
      pruned.removed.map((s) => s.id),
      [id],
    );
    await home.ok(["delete", "--force", "kept"]);
  });
});
