// Export and import of snapshot bundles between SNAPVM_HOMEs: a file, age-encrypted (and opened by Debian's
// age CLI), a pipe, and the project's real S3 server (Ceph radosgw, scripts/s3-server.sh), with the
// memory and disk checked inside the guest after a restore and in a fork; bad input leaves nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CLI, TestHome } from "./harness.ts";

const run = promisify(execFile);
const S3_SCRIPT = new URL("../../scripts/s3-server.sh", import.meta.url).pathname;
const S3_DIR = `/tmp/snapvm-s3-bundle-${process.pid}-${randomBytes(4).toString("hex")}`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

/** A TCP proxy to 127.0.0.1:target that resets the first connection to carry more than `cutAfter` bytes back. */
/** Forwards to `target`; the first response past `cutAfter` bytes is reset, or with `stall` hangs from there on. */
async function cuttingProxy(
  target: number,
  cutAfter: number,
  how: "reset" | "stall" = "reset",
): Promise<{ port: number; cuts: () => number; close: () => Promise<void> }> {
  let cuts = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    sockets.add(client).add(upstream);
    let back = 0;
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      back += chunk.length;
      if (how === "stall" && cuts > 0) return;
      if (cuts === 0 && back > cutAfter) {
        cuts += 1;
        if (how === "stall") {
          upstream.pause();
          return;
        }
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("end", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    port: address.port,
    cuts: () => cuts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

const CHECK = "md5sum /tmp/m /mnt/data/f | cut -d' ' -f1";

describe("snapshot bundles", { timeout: 1_500_000 }, () => {
  const homes: TestHome[] = [];
  const home = (): TestHome => {
    const h = new TestHome();
    homes.push(h);
    return h;
  };
  let a: TestHome;
  let before_: string;
  let key = "";
  let recipient = "";

  before(async () => {
    a = home();
    await a.ok(["create", "src", "--memory", "256M", "--disk", "1G"]);
    await a.ok(["start", "src"]);
    before_ = await a.ok(["exec", "src", "--", `dd if=/dev/urandom of=/tmp/m bs=1M count=24 2>/dev/null; echo disk > /mnt/data/f; sync; ${CHECK}`]);
    await a.ok(["snapshot", "create", "src", "s"]);
    // After the snapshot: an import of it must not see these.
    await a.ok(["exec", "src", "--", "echo later > /mnt/data/f; rm /tmp/m; sync"]);
    key = join(a.dir, "key.txt");
    recipient = (await a.json<{ recipient: string }>(["key", "generate", "--out", key])).recipient;
    assert.match(recipient, /^age1/);
  });
  after(async () => {
    await run("bash", [S3_SCRIPT, "stop"], { env: { ...process.env, SNAPVM_S3_DIR: S3_DIR } }).catch(() => undefined);
    for (const h of homes) await h.cleanup();
  });

  async function restoredChecks(h: TestHome, name: string): Promise<void> {
    await h.ok(["snapshot", "restore", name, "s"]);
    await h.ok(["start", name]);
    assert.equal(await h.ok(["exec", name, "--", CHECK]), before_, "memory and disk as at the snapshot");
    await h.ok(["fork", `${name}@s`, `${name}-f`]);
    assert.equal(await h.ok(["exec", `${name}-f`, "--", CHECK]), before_, "the fork too");
    await h.ok(["stop", name]);
    await h.ok(["delete", "--force", `${name}-f`]);
  }

  test("encrypted to a file; Debian's age opens it; the plaintext imports into another home and restores", async () => {
    const file = join(a.dir, "s.bundle.age");
    const r = await a.json<{ encrypted: boolean; dataBytes: number; sentBytes: number }>([
      "snapshot",
      "export",
      "src",
      "s",
      "--to",
      file,
      "--recipient",
      recipient,
    ]);
    assert.equal(r.encrypted, true);
    assert.ok(readFileSync(file).subarray(0, 21).toString() === "age-encryption.org/v1");
    const plain = join(a.dir, "s.bundle");
    const age = spawnSync("sh", ["-c", `age -d -i '${key}' < '${file}' > '${plain}'`]);
    assert.equal(age.status, 0, age.stderr.toString());
    const b = home();
    await b.ok(["snapshot", "import", plain, "--as", "b"]);
    await restoredChecks(b, "b");
    // The encrypted file itself, with the key, imports too.
    await b.ok(["snapshot", "import", file, "--as", "b2", "--identity", key]);
    assert.ok(existsSync(b.instanceDir("b2")));
  });

  test("through a pipe into another home", async () => {
    const c = home();
    const piped = spawnSync(
      "bash",
      [
        "-o",
        "pipefail",
        "-c",
        `SNAPVM_HOME='${a.dir}' node '${CLI}' snapshot export src s --to - | SNAPVM_HOME='${c.dir}' node '${CLI}' snapshot import - --as p`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(piped.status, 0, piped.stderr);
    await restoredChecks(c, "p");
  });

  test("bad input leaves nothing: no key, the wrong key, truncated, tampered, an existing destination", async () => {
    const d = home();
    const file = join(a.dir, "s.bundle.age");
    const other = join(d.dir, "other.txt");
    await d.ok(["key", "generate", "--out", other]);
    const cases: [string[], string][] = [
      [["snapshot", "import", file], "E_WRONG_KEY"],
      [["snapshot", "import", file, "--identity", other], "E_WRONG_KEY"],
    ];
    const plain = readFileSync(join(a.dir, "s.bundle"));
    const truncated = join(d.dir, "truncated.bundle");
    writeFileSync(truncated, plain.subarray(0, Math.floor(plain.length * 0.7)));
    cases.push([["snapshot", "import", truncated], "E_BUNDLE_INVALID"]);
    const tampered = join(d.dir, "tampered.bundle");
    const copy = Buffer.from(plain);
    const at = Math.floor(copy.length * 0.6);
    copy.writeUInt8(copy.readUInt8(at) ^ 0x40, at);
    writeFileSync(tampered, copy);
    cases.push([["snapshot", "import", tampered], "E_BUNDLE_INVALID"]);
    for (const [args, code] of cases) {
      const result = await d.run([...args, "--json"]);
      assert.notEqual(result.code, 0);
      assert.equal((JSON.parse(result.stdout) as { error?: { code?: string } }).error?.code, code, result.stderr + result.stdout);
      assert.deepEqual(
        readdirSync(join(d.dir, "instances")).filter((n) => n !== "images"),
        [],
        `nothing left after ${args.join(" ")}`,
      );
    }
    const exists = await a.run(["snapshot", "export", "src", "s", "--to", file]);
    assert.notEqual(exists.code, 0);
    assert.match(exists.stderr, /already exists/);
  });

  test("encrypted to the real S3 server and back into another home", async () => {
    const port = await freePort();
    const { stdout } = await run("bash", [S3_SCRIPT, "start"], {
      env: { ...process.env, SNAPVM_S3_DIR: S3_DIR, SNAPVM_S3_PORT: String(port) },
      timeout: 180_000,
    });
    const env = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    ) as Record<string, string>;
    const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
    const client = new S3Client({
      endpoint: env["AWS_ENDPOINT_URL"] ?? "",
      region: env["AWS_REGION"] ?? "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: env["AWS_ACCESS_KEY_ID"] ?? "", secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "" },
    });
    await client.send(new CreateBucketCommand({ Bucket: "bundles" }));
    await a.ok(["snapshot", "export", "src", "s", "--to", "s3://bundles/vm/s.age", "--recipient", recipient], { env });
    const e = home();
    await e.ok(["snapshot", "import", "s3://bundles/vm/s.age", "--as", "e", "--identity", key], { env });
    await restoredChecks(e, "e");
    // Through a proxy that breaks the first long download after 2 MiB: the import resumes where it stopped.
    const proxy = await cuttingProxy(Number(new URL(env["AWS_ENDPOINT_URL"] ?? "").port), 2 * 2 ** 20);
    try {
      await e.ok(["snapshot", "import", "s3://bundles/vm/s.age", "--as", "e2", "--identity", key, "--endpoint", `http://127.0.0.1:${proxy.port}`], { env });
      assert.equal(proxy.cuts(), 1, "the download was broken once");
      await e.ok(["snapshot", "restore", "e2", "s"]);
      await e.ok(["start", "e2"]);
      assert.equal(await e.ok(["exec", "e2", "--", CHECK]), before_, "and is whole");
      await e.ok(["delete", "--force", "e2"]);
    } finally {
      await proxy.close();
    }
    // An import killed (-9) mid-download (held by a stalling proxy after ~4 MiB, headers included) resumes when run again:
    // what it had fetched comes from its local copy in transfers/, the rest from S3, and the copy goes.
    const stalling = await cuttingProxy(Number(new URL(env["AWS_ENDPOINT_URL"] ?? "").port), 4 * 2 ** 20, "stall");
    const eTransfers = join(e.dir, "transfers");
    const fetched = (): number =>
      (existsSync(eTransfers) ? readdirSync(eTransfers) : [])
        .filter((n) => n.endsWith(".part"))
        .reduce((sum, n) => sum + statSync(join(eTransfers, n)).size, 0);
    try {
      const importing = spawn(
        process.execPath,
        [CLI, "snapshot", "import", "s3://bundles/vm/s.age", "--as", "e4", "--identity", key, "--endpoint", `http://127.0.0.1:${stalling.port}`],
        { env: { ...process.env, ...env, SNAPVM_HOME: e.dir }, stdio: "ignore" },
      );
      for (let i = 0; i < 1200 && (stalling.cuts() === 0 || fetched() < 3 * 2 ** 20); i++) await sleep(50);
      importing.kill("SIGKILL");
      await new Promise((resolve) => importing.once("exit", resolve));
    } finally {
      await stalling.close();
    }
    assert.ok(fetched() >= 3 * 2 ** 20, `the killed import had fetched ${fetched()} bytes`);
    assert.equal(existsSync(e.instanceDir("e4")), false, "a killed import leaves no instance");
    const resumedImport = JSON.parse(await e.ok(["snapshot", "import", "s3://bundles/vm/s.age", "--as", "e4", "--identity", key, "--json"], { env })) as {
      resumedBytes: number;
    };
    assert.ok(resumedImport.resumedBytes >= 3 * 2 ** 20, JSON.stringify(resumedImport));
    assert.deepEqual(readdirSync(eTransfers), [], "the local copy goes once the import is done");
    await e.ok(["snapshot", "restore", "e4", "s"]);
    await e.ok(["start", "e4"]);
    assert.equal(await e.ok(["exec", "e4", "--", CHECK]), before_, "the resumed import is whole");
    await e.ok(["delete", "--force", "e4"]);
    // An export killed (-9) after some parts are stored resumes when run again: those parts are checked, not sent.
    const exporting = spawn(process.execPath, [CLI, "snapshot", "export", "src", "s", "--to", "s3://bundles/vm/resumed.age", "--recipient", recipient], {
      env: { ...process.env, ...env, SNAPVM_HOME: a.dir },
      stdio: "ignore",
    });
    const transfers = join(a.dir, "transfers");
    const storedParts = (): number => {
      for (const file of (existsSync(transfers) ? readdirSync(transfers) : []).filter((n) => /^export-[0-9a-f]+\.json$/.test(n))) {
        try {
          return (JSON.parse(readFileSync(join(transfers, file), "utf8")) as { upload?: { parts: unknown[] } }).upload?.parts.length ?? 0;
        } catch {
          return 0; // being written
        }
      }
      return 0;
    };
    for (let i = 0; i < 600 && storedParts() < 1; i++) await sleep(50);
    exporting.kill("SIGKILL");
    assert.ok(storedParts() >= 1, "parts were stored before the kill");
    const resumed = JSON.parse(
      await a.ok(["snapshot", "export", "src", "s", "--to", "s3://bundles/vm/resumed.age", "--recipient", recipient, "--json"], { env }),
    ) as {
      resumedParts: number;
    };
    assert.ok(resumed.resumedParts >= 1, JSON.stringify(resumed));
    assert.deepEqual(existsSync(transfers) ? readdirSync(transfers) : [], [], "the record goes once the upload completes");
    await e.ok(["snapshot", "import", "s3://bundles/vm/resumed.age", "--as", "e3", "--identity", key], { env });
    await e.ok(["snapshot", "restore", "e3", "s"]);
    await e.ok(["start", "e3"]);
    assert.equal(await e.ok(["exec", "e3", "--", CHECK]), before_, "the resumed upload is whole");
    await e.ok(["delete", "--force", "e3"]);

    const missing = await e.run(["snapshot", "import", "s3://bundles/vm/nothing", "--as", "x", "--json"], { env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout, /E_REMOTE_NOT_FOUND/);
    assert.equal(existsSync(e.instanceDir("x")), false);

    // A live offload of the running source straight to S3, then the remote listing, then forks from the URL.
    const live = await a.ok(["exec", "src", "--", `dd if=/dev/urandom of=/tmp/m bs=1M count=8 2>/dev/null; echo live > /mnt/data/f; sync; ${CHECK}`]);
    await a.ok(["snapshot", "create", "src", "hot", "--to", "s3://bundles/vm/hot.age", "--recipient", recipient], { env });
    const listed = JSON.parse(await e.ok(["snapshot", "list", "s3://bundles/vm/", "--identity", key, "--json"], { env })) as {
      bundles: { url: string; encrypted: boolean; live?: boolean; source?: { instance: string; tag: string } }[];
    };
    const hot = listed.bundles.find((b) => b.url === "s3://bundles/vm/hot.age");
    assert.deepEqual([hot?.encrypted, hot?.live, hot?.source?.tag], [true, true, "hot"], JSON.stringify(listed));
    assert.ok(listed.bundles.some((b) => b.url === "s3://bundles/vm/s.age" && b.live === false));
    const without = JSON.parse(await e.ok(["snapshot", "list", "s3://bundles", "--json"], { env })) as { bundles: { note?: string }[] };
    assert.ok(
      without.bundles.every((b) => b.note?.includes("--identity") === true),
      "no key: said so, nothing read",
    );
    const forked = JSON.parse(await e.ok(["fork", "s3://bundles/vm/hot.age", "h", "--count", "2", "--identity", key, "--json"], { env })) as {
      forks: { name: string }[];
    };
    assert.deepEqual(
      forked.forks.map((f) => f.name),
      ["h-1", "h-2"],
    );
    for (const f of forked.forks) assert.equal(await e.ok(["exec", f.name, "--", CHECK]), live, `${f.name} as at the offload`);
    // The same object again: the earlier import is used (nothing downloaded), one more fork.
    const again = await e.ok(["fork", "s3://bundles/vm/hot.age", "h3", "--identity", key], { env });
    assert.match(again, /forked 1 from src-hot@hot/);
    await e.ok(["delete", "--force", "h3"]);
    for (const f of forked.forks) await e.ok(["delete", "--force", f.name]);
    // A missing bucket fails at once, and the guest runs on.
    const nowhere = await a.run(["snapshot", "create", "src", "x", "--to", "s3://no-such-bucket/x", "--json"], { env });
    assert.notEqual(nowhere.code, 0);
    assert.match(nowhere.stdout, /E_REMOTE_NOT_FOUND/);
    assert.equal(await a.ok(["exec", "src", "--", CHECK]), live);
  });
});
