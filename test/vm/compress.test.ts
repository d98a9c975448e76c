import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { TestHome } from "./harness.ts";

interface ListEntry {
  tag: string;
  compressed: boolean;
  allocatedBytes: number;
  apparentBytes: number;
}
interface CompressJson {
  changed: boolean;
  totalMs: number;
  files: { from: string; to: string; fromAllocatedBytes: number; toAllocatedBytes: number; apparentBytes: number }[];
}
interface CreateJson {
  compression?: { pid: number; level: number };
}
interface ForkJson {
  forks: { name: string; started?: { status: { bootKind: string } } }[];
}

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

describe("snapshot compression", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  const snapshot = async (name: string, tag: string): Promise<ListEntry> => {
    const found = (await home.json<ListEntry[]>(["snapshot", "list", name])).find((s) => s.tag === tag);
    assert.ok(found !== undefined, `snapshot ${tag} is listed`);
    return found;
  };

  test("compress and decompress by hand; restore decompresses; compression: zstd compresses in the background and fork decompresses", async (t) => {
    await home.ok(["create", "zc", "--memory", "256M", "--disk", "1G"]);
    await home.ok(["start", "zc"]);
    const sum = await home.ok(["exec", "zc", "--", "dd if=/dev/urandom of=/tmp/m bs=1M count=32 2>/dev/null; md5sum /tmp/m"]);
    await home.ok(["snapshot", "create", "zc", "one"]);
    const ram = join(home.instanceDir("zc"), "snapshots", "one", "memory.ram");
    const ramSha = sha(ram);
    const plain = await snapshot("zc", "one");
    assert.equal(plain.compressed, false);

    const packed = await home.json<CompressJson>(["snapshot", "compress", "zc", "one"]);
    assert.deepEqual(
      packed.files.map((f) => [f.from, f.to]),
      [["memory.ram", "memory.ram.zst"]],
    );
    const listed = await snapshot("zc", "one");
    assert.equal(listed.compressed, true);
    assert.ok(listed.allocatedBytes < listed.apparentBytes, `${listed.allocatedBytes} on disk < ${listed.apparentBytes} apparent`);
    assert.ok(listed.allocatedBytes < plain.allocatedBytes, `${listed.allocatedBytes} on disk compressed < ${plain.allocatedBytes} before`);
    const unpacked = await home.json<CompressJson>(["snapshot", "decompress", "zc", "one"]);
    assert.equal(sha(ram), ramSha, "decompressing gives the RAM file back byte for byte");
    const [file] = unpacked.files;
    assert.ok(file !== undefined && file.toAllocatedBytes <= (packed.files[0]?.fromAllocatedBytes ?? 0) + 1024 * 1024, "and as sparse as it was");
    t.diagnostic(
      `256 MiB guest, 32 MiB random in /tmp: memory.ram ${mib(packed.files[0]?.fromAllocatedBytes ?? 0)} allocated → memory.ram.zst ${mib(packed.files[0]?.toAllocatedBytes ?? 0)} in ${packed.totalMs.toFixed(0)} ms; decompress ${unpacked.totalMs.toFixed(0)} ms back to ${mib(file.toAllocatedBytes)}`,
    );

    // Restore auto-decompresses a compressed snapshot and brings the running guest back to it.
    await home.ok(["snapshot", "compress", "zc", "one"]);
    await home.ok(["exec", "zc", "--", "rm /tmp/m"]);
    const restored = await home.json<{ started?: { status: { bootKind: string } } }>(["snapshot", "restore", "zc", "one"]);
    assert.equal(restored.started?.status.bootKind, "restore");
    assert.equal(await home.ok(["exec", "zc", "--", "md5sum /tmp/m"]), sum);
    assert.equal((await snapshot("zc", "one")).compressed, false, "the restore left it decompressed");

    // With snapshot.compression: zstd, `snapshot create` returns at once and a background process compresses.
    await home.ok(["config", "set", "zc", "snapshot.compression=zstd"]);
    const created = await home.json<CreateJson>(["snapshot", "create", "zc", "two"]);
    assert.equal(created.compression?.level, 3);
    const started = Date.now();
    while (!(await snapshot("zc", "two")).compressed) {
      assert.ok(Date.now() - started < 60_000, "compressed within 60 s");
      await delay(250);
    }
    t.diagnostic(`background compression visible in list after ${Date.now() - started} ms`);
    // The manifest flips before the background process logs its last line: wait for that line too.
    const logged = (): boolean => /"msg":"snapshot compressed"/.test(readFileSync(join(home.instanceDir("zc"), "agent.log"), "utf8"));
    while (!logged()) {
      assert.ok(Date.now() - started < 60_000, "the background compression logged its result");
      await delay(100);
    }

    const forked = await home.json<ForkJson>(["fork", "zc@two", "zf"]);
    assert.equal(forked.forks[0]?.started?.status.bootKind, "restore");
    assert.equal(await home.ok(["exec", "zf", "--", "md5sum /tmp/m; hostname"]), `${sum}zf\n`);
    assert.equal((await snapshot("zc", "two")).compressed, false, "the fork left it decompressed");
    const refused = await home.run(["snapshot", "compress", "zc", "two"]);
    assert.match(refused.stderr, /snapshot "two" of "zc" cannot be compressed: fork "zf" maps its memory \[E_INVALID_TRANSITION\]/);

    await home.ok(["delete", "--force", "zf"]);
    await home.ok(["delete", "--force", "zc"]);
  });
});
