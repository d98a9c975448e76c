import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The built CLI (scripts/setup.sh builds it); VM tests drive snapvm exactly as a user does. */
export const CLI = resolve(import.meta.dirname, "../../dist/bin/snapvm.js");

/** The tiny image built once by set-up; every test home links to it instead of rebuilding. */
export const SHARED_IMAGES = process.env["SNAPVM_TEST_IMAGES"] ?? join(homedir(), ".snapvm", "images");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A throwaway SNAPVM_HOME. `cleanup()` force-deletes every instance, kills any QEMU still running
 * from this home (even if its agent died), and removes the directory. Call it in `after`, always.
 */
export class TestHome {
  readonly dir: string;

  /** `base`: where to make the home (a test of another filesystem passes its mount point). */
  constructor(base = tmpdir()) {
    this.dir = mkdtempSync(join(base, "snapvm-test-"));
    mkdirSync(join(this.dir, "instances"));
    if (!existsSync(join(SHARED_IMAGES, "tiny", "image.json"))) {
      throw new Error(`no tiny image in ${SHARED_IMAGES}; run scripts/setup.sh first`);
    }
    symlinkSync(SHARED_IMAGES, join(this.dir, "images"));
  }

  instanceDir(name: string): string {
    return join(this.dir, "instances", name);
  }

  run(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, SNAPVM_HOME: this.dir, ...options.env },
        stdio: ["pipe", "pipe", "pipe"],
      });
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
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(options.input ?? "");
    });
  }

  /** Runs a command that must succeed; a failure throws with everything it printed. */
  async ok(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(`snapvm ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
    return result.stdout;
  }

  async json<T>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"])) as T;
  }

  /** Pids of QEMU processes started from this home. */
  qemuPids(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
        if (cmdline.includes("qemu-system") && cmdline.includes(this.dir)) pids.push(Number(entry));
      } catch {
        // the process ended meanwhile
      }
    }
    return pids;
  }

  /** Agent pids recorded in this home's lock files. */
  agentPids(): number[] {
    const instances = join(this.dir, "instances");
    if (!existsSync(instances)) return [];
    return readdirSync(instances).flatMap((name) => {
      try {
        return [Number.parseInt(readFileSync(join(instances, name, "agent.lock"), "utf8"), 10)].filter(Number.isSafeInteger);
      } catch {
        return [];
      }
    });
  }

  async cleanup(): Promise<void> {
    const agents = this.agentPids();
    // Two passes: delete refuses a template while its forks exist, and the forks go in the first pass.
    for (let pass = 0; pass < 2; pass++) {
      for (const name of existsSync(join(this.dir, "instances")) ? readdirSync(join(this.dir, "instances")) : []) {
        if (!name.startsWith(".")) await this.run(["delete", "--force", name]).catch(() => undefined);
      }
    }
    for (const pid of [...this.qemuPids(), ...agents]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
