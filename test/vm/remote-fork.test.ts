// snapvm fork ssh://HOST/…/NAME@TAG NEW [--lazy] between two namespaced hosts (scripts/test-hosts.sh):
// needs root, QEMU and the tiny image. The snapshot is on host a, the forks are made on host b.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MigrationHosts, type Host } from "./migrate-hosts.ts";

interface RemoteForkResult {
  name: string;
  from: string;
  lazy: boolean;
  answeringMs: number;
  totalMs: number;
  fileBytes: number;
  reusedLayers?: string[];
}

// Its own namespaces and state dir: the migration tests may run their own pair at the same time.
const hosts = new MigrationHosts(process.env["SNAPVM_TEST_HOSTS_PREFIX"] ?? "snaprfork", process.env["SNAPVM_TEST_HOSTS_DIR"] ?? "/tmp/snaprfork-hosts");
const SOURCE = "rf-src";
const TAG = "warm";

async function checksums(host: Host, name: string): Promise<string> {
  return hosts.exec(host, name, "md5sum /tmp/ram.bin /mnt/data/file | cut -d' ' -f1 | tr '\\n' ' '");
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every file of the snapshot's directory on host a, with its digest. */
async function snapshotDigests(): Promise<Record<string, string>> {
  const dir = join(hosts.home("a"), "instances", SOURCE, "snapshots", TAG);
  const digests: Record<string, string> = {};
  for (const file of readdirSync(dir).sort()) digests[file] = await sha256(join(dir, file));
  return digests;
}

function remote(tag = TAG, instance = SOURCE): string {
  return `${hosts.dest("a")}/${instance}@${tag}`;
}

/** Nothing of a fork's making is left on host a: only the source instance, only its QEMU, no scratch sockets. */
function nothingLeftOnA(): void {
  assert.deepEqual(hosts.instances("a"), [SOURCE]);
  assert.equal(hosts.qemuPids("a").length, 1, "only the source's QEMU runs on host a");
  assert.deepEqual(
    readdirSync("/tmp").filter((f) => f.startsWith("snapvm-rfork-")),
    [],
    "fork-serve removed the sockets the fork's ssh made",
  );
}

function tmpfsRamOf(name: string): string[] {
  return readdirSync("/dev/shm").filter((f) => f.startsWith(`snapvm-${name}-`));
}

async function json<T>(host: Host, args: readonly string[]): Promise<T> {
  return JSON.parse(await hosts.ok(host, [...args, "--json"])) as T;
}

describe("snapvm fork of a snapshot on another host", { concurrency: false }, () => {
  let expected = "";
  let digests: Record<string, string> = {};

  before(async () => {
    await hosts.up();
    await hosts.ok("a", ["create", SOURCE, "--memory", "256M"]);
    await hosts.ok("a", ["start", SOURCE]);
    expected = await hosts.exec(
      "a",
      SOURCE,
      "head -c 40000000 /dev/urandom > /tmp/ram.bin && echo disk-$$ > /mnt/data/file && sync && md5sum /tmp/ram.bin /mnt/data/file | cut -d' ' -f1 | tr '\\n' ' '",
    );
    await hosts.ok("a", ["snapshot", "create", SOURCE, TAG]);
    digests = await snapshotDigests();
  });
  after(async () => {
    await hosts.down();
  });

  test("--lazy: the fork answers on b with the snapshot's memory and disk, its own name, and says where it came from", async () => {
    const name = "rf-lazy";
    const result = await json<RemoteForkResult>("b", ["fork", remote(), name, "--lazy"]);
    assert.equal(result.lazy, true);
    assert.equal(result.name, name);
    assert.equal(result.from, remote());
    assert.ok(result.answeringMs > 0 && result.answeringMs <= result.totalMs);
    assert.equal(await checksums("b", name), expected);
    assert.equal(await hosts.exec("b", name, "hostname"), name);
    const info = await json<{ state: string; migration?: { cameFrom?: { peer: string } } }>("b", ["info", name]);
    assert.equal(info.state, "running");
    assert.equal(info.migration?.cameFrom?.peer, `${remote()} (lazy fork)`);
    // Its RAM went back from tmpfs to its own file once every page was here.
    assert.deepEqual(tmpfsRamOf(name), []);
    // The guest runs on b with its own disk: a write there stays there.
    await hosts.exec("b", name, "echo changed > /mnt/data/file && sync");
    assert.equal(await hosts.exec("a", SOURCE, "cat /mnt/data/file").then((t) => t.startsWith("disk-")), true);
    nothingLeftOnA();
    assert.deepEqual(await snapshotDigests(), digests, "the snapshot on a is untouched");
  });

  test("--lazy a second time finds the snapshot's disk layer on b by its digest instead of copying it", async () => {
    const name = "rf-lazy2";
    const result = await json<RemoteForkResult>("b", ["fork", remote(), name, "--lazy"]);
    assert.ok((result.reusedLayers ?? []).length > 0, JSON.stringify(result));
    assert.equal(await checksums("b", name), expected);
    nothingLeftOnA();
  });

  test("without --lazy the snapshot is copied first (a local template) and forked on b", async () => {
    const name = "rf-copy";
    const result = await json<RemoteForkResult & { template: string; copied: boolean }>("b", ["fork", remote(), name]);
    assert.equal(result.lazy, false);
    assert.equal(result.copied, true);
    assert.equal(result.template, `${SOURCE}-${TAG}`);
    assert.equal(await checksums("b", name), expected);
    assert.equal(await hosts.exec("b", name, "hostname"), name);
    const again = await json<RemoteForkResult & { copied: boolean }>("b", ["fork", remote(), `${name}2`]);
    assert.equal(again.copied, false, "the second fork of the same URL uses the template");
    nothingLeftOnA();
  });

  test("refusals say why before anything moves, and leave nothing on either host", async () => {
    const before = hosts.instances("b").sort();
    const qemuB = hosts.qemuPids("b").length;
    const refuse = async (args: readonly string[], env: Record<string, string> = {}): Promise<{ code: string; message: string }> => {
      const r = await hosts.runWithEnv("b", env, [...args, "--json"]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      return (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    };
    const noTag = await refuse(["fork", remote("nope"), "rf-x", "--lazy"]);
    assert.match(noTag.message, /no snapshot "nope"/);
    assert.match(noTag.message, /^ssh:\/\//);
    assert.equal((await refuse(["fork", remote(TAG, "nosuch"), "rf-x", "--lazy"])).code, "E_INSTANCE_NOT_FOUND");
    assert.equal((await refuse(["fork", remote("nope"), "rf-x"])).code, noTag.code);
    assert.equal((await refuse(["fork", remote(), "rf-lazy", "--lazy"])).code, "E_INSTANCE_EXISTS");
    const version = await refuse(["fork", remote(), "rf-x", "--lazy"], { SNAPVM_TEST_MIGRATION_QEMU_VERSION: "9.9.9" });
    assert.equal(version.code, "E_MIGRATION_REFUSED");
    assert.match(version.message, /QEMU 9\.9\.9.*nothing was moved/);
    assert.equal((await refuse(["fork", "ssh://root@10.231.0.77/x@y", "rf-x", "--lazy"])).code, "E_REMOTE_UNREACHABLE");
    assert.deepEqual(hosts.instances("b").sort(), before);
    assert.equal(hosts.qemuPids("b").length, qemuB);
    assert.deepEqual(tmpfsRamOf("rf-x"), []);
    nothingLeftOnA();
  });
});
