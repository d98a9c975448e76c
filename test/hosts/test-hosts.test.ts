// scripts/test-hosts.sh: two namespaced hosts with real sshds. No VM; needs root (network namespaces).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

const SCRIPT = resolve(import.meta.dirname, "../../scripts/test-hosts.sh");
const A_ADDR = "10.231.0.1";
const B_ADDR = "10.231.0.2";
const isRoot = process.getuid?.() === 0;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A pair of hosts of its own: a unique namespace prefix and state dir. */
class Hosts {
  readonly prefix: string;
  readonly dir: string;

  constructor(tag: string) {
    this.prefix = `snapvmt${process.pid}${tag}`;
    // Not made here: `up` makes it and `down` removes it.
    this.dir = join(tmpdir(), `snapvm-hosts-test-${process.pid}-${tag}`);
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SNAPVM_TEST_HOSTS_PREFIX: this.prefix, SNAPVM_TEST_HOSTS_DIR: this.dir };
  }

  sh(args: readonly string[]): Promise<Result> {
    const started = Date.now();
    return new Promise((resolvePromise, reject) => {
      const child = spawn("bash", [SCRIPT, ...args], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  async ok(args: readonly string[]): Promise<string> {
    const r = await this.sh(args);
    assert.equal(r.code, 0, `test-hosts.sh ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  namespaces(): string[] {
    const out = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    return out
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter((n) => n.startsWith(`${this.prefix}-`));
  }

  /** Pids of processes in this pair's namespaces (none once the namespaces are gone). */
  processes(): string[] {
    return this.namespaces().flatMap((ns) => spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split("\n").filter(Boolean));
  }
}

/** Running, as opposed to gone or a zombie waiting for whoever adopted it (pid 1 here) to reap it. */
function running(pid: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** `up`'s stdout: exactly the five KEY=VALUE lines, nothing else. */
function parseAssignments(stdout: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of stdout.trimEnd().split("\n")) {
    const m = /^([A-Z_]+)=(\S+)$/.exec(line);
    assert.ok(m, `not an assignment: ${JSON.stringify(line)}`);
    vars.set(m[1] ?? "", m[2] ?? "");
  }
  assert.deepEqual([...vars.keys()].sort(), ["A_DEST", "A_HOME", "B_DEST", "B_HOME", "SSH_CONFIG"]);
  return vars;
}

function get(vars: Map<string, string>, key: string): string {
  const v = vars.get(key);
  assert.ok(v !== undefined, key);
  return v;
}

/** `ssh://root@ADDR/PATH` → `root@ADDR`, as a tool given the destination would call ssh. */
function sshTarget(dest: string): { target: string; path: string } {
  const url = new URL(dest);
  assert.equal(url.protocol, "ssh:");
  return { target: `${url.username}@${url.hostname}`, path: url.pathname };
}

describe("scripts/test-hosts.sh", { skip: isRoot ? false : "needs root (network namespaces)" }, () => {
  const hosts = new Hosts("m");
  let vars = new Map<string, string>();
  const sshdPids: string[] = [];

  before(async () => {
    vars = parseAssignments(await hosts.ok(["up"]));
  });

  after(async () => {
    const r = await hosts.sh(["down"]);
    assert.equal(r.code, 0, r.stderr);
  });

  test("up prints the destinations, homes and ssh config of both hosts", () => {
    const aHome = get(vars, "A_HOME");
    const bHome = get(vars, "B_HOME");
    assert.equal(get(vars, "A_DEST"), `ssh://root@${A_ADDR}${aHome}`);
    assert.equal(get(vars, "B_DEST"), `ssh://root@${B_ADDR}${bHome}`);
    assert.equal(sshTarget(get(vars, "A_DEST")).path, aHome);
    assert.ok(aHome.startsWith(hosts.dir) && bHome.startsWith(hosts.dir) && aHome !== bHome);
    assert.ok(existsSync(aHome) && existsSync(bHome));
    const config = readFileSync(get(vars, "SSH_CONFIG"), "utf8");
    assert.match(config, /StrictHostKeyChecking yes/);
    assert.match(config, /BatchMode yes/);
    assert.deepEqual(hosts.namespaces().sort(), [`${hosts.prefix}-a`, `${hosts.prefix}-b`]);
    for (const h of ["a", "b"]) sshdPids.push(readFileSync(join(hosts.dir, h, "sshd.pid"), "utf8").trim());
    assert.equal(sshdPids.length, 2);
  });

  test("a second up finds the hosts healthy and prints the same", async () => {
    const again = await hosts.sh(["up"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(parseAssignments(again.stdout), vars);
    assert.match(again.stderr, /already up/);
    for (const h of ["a", "b"]) {
      assert.ok(sshdPids.includes(readFileSync(join(hosts.dir, h, "sshd.pid"), "utf8").trim()), "sshd restarted");
    }
  });

  test("status says both hosts are up and healthy", async () => {
    const out = await hosts.ok(["status"]);
    assert.match(out, new RegExp(`host a: namespace ${hosts.prefix}-a, ${A_ADDR} state UP, sshd pid \\d+`));
    assert.match(out, new RegExp(`host b: namespace ${hosts.prefix}-b, ${B_ADDR} state UP, sshd pid \\d+`));
    assert.match(out, /^healthy/m);
  });

  test("host a reaches host b's sshd, by name and by the address in B_DEST", async () => {
    const byName = await hosts.ok(["run", "a", "ssh", "b", "ip -o -4 addr show"]);
    assert.match(byName, new RegExp(` inet ${B_ADDR.replaceAll(".", "\\.")}/24 `));
    assert.doesNotMatch(byName, new RegExp(A_ADDR.replaceAll(".", "\\.")));
    const { target } = sshTarget(get(vars, "B_DEST"));
    const byDest = await hosts.ok(["run", "a", "ssh", target, "echo $SNAPVM_TEST_HOST"]);
    assert.equal(byDest.trim(), "b");
  });

  test("host b reaches host a's sshd", async () => {
    const { target } = sshTarget(get(vars, "A_DEST"));
    const out = await hosts.ok(["run", "b", "ssh", target, "ip -o -4 addr show"]);
    assert.match(out, new RegExp(` inet ${A_ADDR.replaceAll(".", "\\.")}/24 `));
  });

  test("a login on a host sees that host's SNAPVM_HOME", async () => {
    assert.equal((await hosts.ok(["run", "a", "ssh", "b", "echo $SNAPVM_HOME"])).trim(), get(vars, "B_HOME"));
    assert.equal((await hosts.ok(["run", "b", "ssh", "a", "echo $SNAPVM_HOME"])).trim(), get(vars, "A_HOME"));
  });

  test("scp from a to b's home", async () => {
    const src = join(get(vars, "A_HOME"), "hello.txt");
    writeFileSync(src, "hello from a\n");
    await hosts.ok(["run", "a", "scp", src, `${sshTarget(get(vars, "B_DEST")).target}:${get(vars, "B_HOME")}/`]);
    assert.equal(readFileSync(join(get(vars, "B_HOME"), "hello.txt"), "utf8"), "hello from a\n");
  });

  test("run sets SNAPVM_HOME and SNAPVM_SSH_CONFIG, runs inside the namespace, and returns CMD's status", async () => {
    const env = await hosts.ok(["run", "a", "sh", "-c", 'echo "$SNAPVM_HOME $SNAPVM_SSH_CONFIG"']);
    assert.equal(env.trim(), `${get(vars, "A_HOME")} ${get(vars, "SSH_CONFIG")}`);
    const addrs = await hosts.ok(["run", "b", "ip", "-o", "-4", "addr", "show"]);
    assert.match(addrs, new RegExp(` inet ${B_ADDR.replaceAll(".", "\\.")}/24 `));
    assert.equal((await hosts.sh(["run", "a", "sh", "-c", "exit 7"])).code, 7);
    // The test addresses exist only inside the namespaces, never on this machine's own network.
    const own = spawnSync("ip", ["-o", "-4", "addr", "show"], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(own, /10\.231\.0\./);
  });

  test("cut makes ssh fail fast both ways; heal restores it", async () => {
    await hosts.ok(["cut"]);
    for (const [from, to] of [
      ["a", "b"],
      ["b", "a"],
    ] as const) {
      const r = await hosts.sh(["run", from, "ssh", "-o", "ConnectTimeout=2", to, "true"]);
      assert.equal(r.code, 255, `${from} → ${to} should fail while cut`);
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    }
    assert.equal((await hosts.sh(["status"])).code, 1);
    await hosts.ok(["heal"]);
    assert.equal((await hosts.ok(["run", "a", "ssh", "-o", "ConnectTimeout=5", "b", "echo back"])).trim(), "back");
    assert.equal((await hosts.ok(["run", "b", "ssh", "-o", "ConnectTimeout=5", "a", "echo back"])).trim(), "back");
  });

  test("down removes the namespaces, every process in them and the state dir; a second down succeeds", async () => {
    await hosts.ok(["down"]);
    assert.deepEqual(hosts.namespaces(), []);
    assert.deepEqual(hosts.processes(), []);
    for (const pid of sshdPids) assert.ok(!running(pid), `sshd ${pid} still running`);
    assert.ok(!existsSync(hosts.dir));
    await hosts.ok(["down"]);
    const r = await hosts.sh(["run", "a", "true"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /host a is not up/);
  });
});

describe("scripts/test-hosts.sh down after a partial up", { skip: isRoot ? false : "needs root (network namespaces)" }, () => {
  const hosts = new Hosts("p");

  after(async () => {
    await hosts.sh(["down"]);
  });

  test("down succeeds when nothing exists", async () => {
    await hosts.ok(["down"]);
  });

  test("down removes a lone namespace with a process in it", async () => {
    const ns = `${hosts.prefix}-a`;
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0);
    const sleeper = spawn("ip", ["netns", "exec", ns, "sleep", "60"], { stdio: "ignore" });
    const exited = new Promise((r) => sleeper.on("exit", r));
    await new Promise((r) => setTimeout(r, 200));
    await hosts.ok(["down"]);
    await exited;
    assert.deepEqual(hosts.namespaces(), []);
  });

  test("down cleans up after an up killed midway", async () => {
    const child = spawn("bash", [SCRIPT, "up"], { env: hosts.env, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    // Late enough that the state dir exists, early enough that up has not finished (~1 s here).
    for (let i = 0; i < 100 && !existsSync(join(hosts.dir, "a")); i++) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await exited;
    // A child of up's (ssh-keygen, ip) may outlive it by a moment.
    await new Promise((r) => setTimeout(r, 300));
    await hosts.ok(["down"]);
    assert.deepEqual(hosts.namespaces(), []);
    assert.ok(!existsSync(hosts.dir));
  });

  test("down and up refuse a non-empty directory that is not a state dir, and leave it alone", () => {
    const dir = mkdtempSync(join(tmpdir(), "snapvm-hosts-stranger-"));
    writeFileSync(join(dir, "keep.txt"), "x");
    try {
      const env = { ...hosts.env, SNAPVM_TEST_HOSTS_DIR: dir };
      for (const verb of ["down", "up"]) {
        const r = spawnSync("bash", [SCRIPT, verb], { env, encoding: "utf8" });
        assert.equal(r.status, 1, `${verb}: ${r.stderr}`);
        assert.match(r.stderr, /is not a test-hosts state dir/);
        assert.equal(r.stdout, "");
        assert.ok(existsSync(join(dir, "keep.txt")));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
