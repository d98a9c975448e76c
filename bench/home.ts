import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The built CLI: the benchmark drives snapvm exactly as a user does (`npm run build` makes it). */
export const CLI = resolve(import.meta.dirname, "../dist/bin/snapvm.js");
/** The tiny image built by scripts/setup.sh; every bench home links to it. */
export const SHARED_IMAGES = process.env["SNAPVM_TEST_IMAGES"] ?? join(homedir(), ".snapvm", "images");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawning the CLI process to its exit. */
  wallMs: number;
  /** Date.now() at spawn, to compare with the agent's log timestamps. */
  spawnedAtEpochMs: number;
}

/**
 * A throwaway SNAPVM_HOME plus everything the benchmark started in it. `cleanup()` deletes every
 * instance, kills every process it knows of (by pid: QEMUs it started, agents, QEMUs whose command
 * line names this home, snapvm processes whose SNAPVM_HOME is this home — forks' agents among them,
 * even those whose instance directory is gone) and removes the directory, its child homes first.
 * Safe to call twice, and from a signal handler.
 */
export class BenchHome {
  readonly dir: string;
  readonly statesDir: string;
  private readonly pids = new Set<number>();
  private readonly children = new Set<BenchHome>();
  private cleaned: Promise<void> | undefined;

  constructor() {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    if (!existsSync(join(SHARED_IMAGES, "tiny", "image.json"))) throw new Error(`no tiny image in ${SHARED_IMAGES}: run scripts/setup.sh first`);
    this.dir = mkdtempSync(join(tmpdir(), "snapvm-bench-"));
    this.statesDir = join(this.dir, "states");
    mkdirSync(join(this.dir, "instances"));
    mkdirSync(this.statesDir);
    symlinkSync(SHARED_IMAGES, join(this.dir, "images"));
  }

  /** Remembers a process to kill on cleanup (a raw QEMU or an agent the benchmark spawned). */
  track(pid: number): void {
    this.pids.add(pid);
  }

  untrack(pid: number): void {
    this.pids.delete(pid);
  }

  /** A second SNAPVM_HOME (where an export is imported), cleaned up with this one if not before. */
  child(): BenchHome {
    const home = new BenchHome();
    this.children.add(home);
    return home;
  }

  /** `env`: added to the CLI's environment (and so to an agent `start` spawns). */
  cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolvePromise, reject) => {
      const spawnedAtEpochMs = Date.now();
      const started = performance.now();
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, SNAPVM_HOME: this.dir }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
      });
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      child.on("error", reject);
      child.on("close", (code) => {
        resolvePromise({ code: code ?? -1, stdout, stderr, wallMs: performance.now() - started, spawnedAtEpochMs });
      });
    });
  }

  /** Runs a CLI command that must succeed, with --json, and parses its output (the caller knows its shape). */
  async cliJson(args: readonly string[]): Promise<{ value: unknown; run: CliRun }> {
    const run = await this.cli([...args, "--json"]);
    if (run.code !== 0) throw new Error(`snapvm ${args.join(" ")} exited ${run.code}\n${run.stderr}${run.stdout}`);
    return { value: JSON.parse(run.stdout), run };
  }

  instanceDir(name: string): string {
    return join(this.dir, "instances", name);
  }

  /**
   * `snapvm delete --force NAME`, then kills what is left of the instance: an agent that was still
   * starting when its directory went (a fan-out whose fork command failed), and its QEMU.
   */
  async deleteInstance(name: string): Promise<CliRun> {
    const run = await this.cli(["delete", "--force", name]);
    const dir = `${this.instanceDir(name)}/`;
    const left = processesOf(this.dir).filter((p) => p.cmdline.includes(dir) || (p.argv.at(-2) === "agent" && p.argv.at(-1) === name));
    for (const { pid } of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    return run;
  }

  cleanup(): Promise<void> {
    this.cleaned ??= this.performCleanup();
    return this.cleaned;
  }

  private async performCleanup(): Promise<void> {
    for (const child of this.children) await child.cleanup();
    const instances = join(this.dir, "instances");
    const names = existsSync(instances) ? readdirSync(instances).filter((n) => !n.startsWith(".")) : [];
    const agents = names.flatMap((name) => readPid(join(instances, name, "agent.lock")));
    for (const name of names) await this.cli(["delete", "--force", name]).catch(() => undefined);
    for (const pid of new Set([...this.pids, ...agents, ...processesOf(this.dir).map((p) => p.pid)])) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readPid(path: string): number[] {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? [pid] : [];
  } catch {
    return [];
  }
}

interface HomeProcess {
  pid: number;
  argv: string[];
  cmdline: string;
}

/**
 * The benchmark's own processes in this home: QEMUs whose command line names it, and processes run
 * with SNAPVM_HOME set to it (agents, CLIs, compressors). Never this process.
 */
function processesOf(dir: string): HomeProcess[] {
  const found: HomeProcess[] = [];
  const home = `SNAPVM_HOME=${dir}`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const qemu = cmdline.startsWith("qemu-system") && cmdline.includes(dir);
      if (qemu || readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(home)) {
        found.push({ pid: Number(entry), argv: cmdline.split("\0").filter((a) => a !== ""), cmdline });
      }
    } catch {
      // ended meanwhile, or not ours to read
    }
  }
  return found;
}
