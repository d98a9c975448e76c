import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setCapabilities, UNLIMITED_BANDWIDTH, waitForMigration } from "../../src/driver/qemu/migrate.ts";
import { QemuVm } from "../../src/driver/qemu/vm.ts";
import type { ImportResult } from "../../src/instance/import/import-state.ts";
import type { PinnedLaunch } from "../../src/snapshot/launch.ts";
import { shellQuote } from "../../src/util/shell-quote.ts";
import { TestHome } from "./harness.ts";

interface StartJson {
  status: { bootKind: string; pendingChanges?: string[] };
}

const DIRTY =
  "dd if=/dev/urandom of=/tmp/ram.bin bs=1M count=32 2>/dev/null && dd if=/dev/urandom of=/mnt/data/disk.bin bs=1M count=1 2>/dev/null && sync && md5sum /tmp/ram.bin /mnt/data/disk.bin";
/** After a restore, with the guest's page cache dropped so the disk file is re-read from the copied disk. */
const CHECK = "echo 3 > /proc/sys/vm/drop_caches && md5sum /tmp/ram.bin /mnt/data/disk.bin";

/**
 * The gist's way, on snapvm's own argv: QEMU started directly from an instance's pinned spec (not
 * through the agent, which owns QMP), data written in the guest, then `stop` and
 * `migrate "exec:gzip -c > STATE.gz"`. Returns the guest's checksums and the argv QEMU ran with.
 */
async function gistSave(launch: PinnedLaunch, stateGz: string): Promise<{ sums: string; argv: string[]; saveMs: number }> {
  const vm = await QemuVm.start(launch.spec);
  try {
    const guest = await vm.guest();
    await guest.waitReady(60_000);
    const result = await guest.exec(DIRTY, { timeoutMs: 60_000 });
    assert.equal(result.exitCode, 0, result.stderr.toString());
    await vm.qmp.execute("stop");
    await setCapabilities(vm.qmp, []);
    await vm.qmp.execute("migrate-set-parameters", { "max-bandwidth": UNLIMITED_BANDWIDTH });
    const started = performance.now();
    await vm.qmp.execute("migrate", { uri: `exec:gzip -c > ${shellQuote([stateGz])}` });
    await waitForMigration(vm.qmp, "the gist's save", 180_000, 20);
    return { sums: result.stdout.toString(), argv: [...vm.argv], saveMs: performance.now() - started };
  } finally {
    await vm.quit();
    vm.closeChannels();
  }
}

describe("import-state: a plain QEMU migration stream becomes an instance that resumes lazily", () => {
  let home: TestHome;
  let stateGz: string;
  let argvJson: string;
  let sums: string;

  before(async () => {
    home = new TestHome();
    // Anonymous RAM, so the argv has memory-backend-ram id=mem: the gist's kind of VM.
    writeFileSync(join(home.dir, "anon.yaml"), "memory:\n  size: 256M\n  backing: anonymous\ndisk:\n  size: 1G\n");
    await home.ok(["create", "src", "--from-file", join(home.dir, "anon.yaml")]);
    await home.ok(["start", "src"]);
    await home.ok(["stop", "--no-save", "src"]);
    const launch = JSON.parse(readFileSync(join(home.instanceDir("src"), "boot", "launch.json"), "utf8")) as PinnedLaunch;
    stateGz = join(home.dir, "STATE.gz");
    const saved = await gistSave(launch, stateGz);
    sums = saved.sums;
    argvJson = join(home.dir, "argv.json");
    writeFileSync(argvJson, JSON.stringify(saved.argv));
    console.log(`# gist save of a 256 MiB guest (32 MiB dirty) through gzip: ${saved.saveMs.toFixed(0)} ms, ${readFileSync(stateGz).length} bytes`);
  });
  after(async () => {
    await home.cleanup();
  });

  test("a gzip stream imports as a suspended instance; start restores memory and disk, and later saves are lazy", async () => {
    const started = performance.now();
    const imported = await home.json<ImportResult>(["import-state", stateGz, "imp", "--from-argv", argvJson]);
    const importMs = performance.now() - started;
    assert.equal(imported.source.compression, "gzip");
    assert.equal(imported.source.instance, "src");
    assert.equal(imported.memoryBytes, 256 * 1024 * 1024);
    assert.ok(imported.deviceStateBytes > 0 && imported.deviceStateBytes < 4 * 1024 * 1024, "device state only");
    assert.ok(imported.memoryAllocatedBytes >= 32 * 1024 * 1024, "the dirtied RAM is in the RAM file");
    assert.ok(imported.memoryAllocatedBytes < 200 * 1024 * 1024, `zero pages are holes (${imported.memoryAllocatedBytes} allocated)`);
    assert.equal((await home.json<{ state: string }>(["info", "imp"])).state, "suspended");
    const config = readFileSync(join(home.instanceDir("imp"), "snapvm.yaml"), "utf8");
    assert.match(config, /backing: file/);

    const restoreStarted = performance.now();
    const start = await home.json<StartJson>(["start", "imp"]);
    const restoreMs = performance.now() - restoreStarted;
    assert.equal(start.status.bootKind, "restore");
    assert.equal(start.status.pendingChanges, undefined, "snapvm.yaml says what boot/ pinned");
    assert.equal(await home.ok(["exec", "imp", "--", CHECK]), sums);
    console.log(
      `# import ${importMs.toFixed(0)} ms (${JSON.stringify(imported.timings, (_k, v: unknown) => (typeof v === "number" ? Math.round(v) : v))}), start ${restoreMs.toFixed(0)} ms`,
    );

    // From then on it is an ordinary file-backed instance: stop saves device state only, start restores.
    const saved = await home.json<{ action: string; save: { stateBytes: number } }>(["stop", "imp"]);
    assert.equal(saved.action, "saved");
    assert.ok(existsSync(join(home.instanceDir("imp"), "suspend", "devices.state")));
    assert.equal((await home.json<StartJson>(["start", "imp"])).status.bootKind, "restore");
    assert.equal(await home.ok(["exec", "imp", "--", CHECK]), sums);
    await home.ok(["delete", "--force", "imp"]);
  });

  test("a raw stream (--qemu-args) and a zstd one (--from-argv launch.json) import too", async () => {
    const raw = join(home.dir, "STATE.raw");
    execFileSync("sh", ["-c", `gzip -dc ${shellQuote([stateGz])} > ${shellQuote([raw])} && zstd -q -T0 ${shellQuote([raw])} -o ${shellQuote([`${raw}.zst`])}`]);
    const argv = JSON.parse(readFileSync(argvJson, "utf8")) as string[];
    const fromRaw = await home.json<ImportResult>(["import-state", raw, "imp-raw", "--qemu-args", shellQuote(["qemu-system-x86_64", ...argv])]);
    assert.equal(fromRaw.source.compression, "none");
    const fromZstd = await home.json<ImportResult>([
      "import-state",
      `${raw}.zst`,
      "imp-zst",
      "--from-argv",
      join(home.instanceDir("src"), "boot", "launch.json"),
    ]);
    assert.equal(fromZstd.source.compression, "zstd");
    for (const name of ["imp-raw", "imp-zst"]) {
      assert.equal((await home.json<StartJson>(["start", name])).status.bootKind, "restore", name);
      assert.equal(await home.ok(["exec", name, "--", CHECK]), sums, name);
      await home.ok(["delete", "--force", name]);
    }
  });

  test("a stream whose RAM does not match the arguments is refused, and nothing is written", async () => {
    const argv = (JSON.parse(readFileSync(argvJson, "utf8")) as string[]).map((a) => a.replace(/^256M$/, "320M").replace("size=256M", "size=320M"));
    const wrong = join(home.dir, "argv-320M.json");
    writeFileSync(wrong, JSON.stringify(argv));
    const before = readdirSync(join(home.dir, "instances")).sort();
    const result = await home.run(["import-state", stateGz, "wrong", "--from-argv", wrong]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /STATE\.gz cannot be imported: its RAM block "mem" is 256M, the QEMU arguments give 320M \[E_STATE_INCOMPATIBLE\]/);
    assert.deepEqual(readdirSync(join(home.dir, "instances")).sort(), before, "no instance and no temp directory left");
    assert.deepEqual(home.qemuPids(), [], "no QEMU left");
  });

  test("arguments snapvm did not generate are refused before anything is read", async () => {
    const argv = [...(JSON.parse(readFileSync(argvJson, "utf8")) as string[]), "-device", "e1000"];
    const result = await home.run(["import-state", stateGz, "foreign", "--qemu-args", shellQuote(argv), "--json"]);
    assert.equal(result.code, 1);
    const error = (JSON.parse(result.stdout) as { error: { code: string; message: string; hint: string } }).error;
    assert.equal(error.code, "E_INVALID_ARGUMENT");
    assert.match(error.message, /not ones snapvm generates: at argument \d+, snapvm would write nothing more where these arguments have "-device"/);
    assert.match(error.hint, /boot\/launch\.json/);
    const neither = await home.run(["import-state", stateGz, "foreign"]);
    assert.match(neither.stderr, /give exactly one of --from-argv and --qemu-args \[E_INVALID_ARGUMENT\]/);
    assert.equal(existsSync(home.instanceDir("foreign")), false);
  });
});
