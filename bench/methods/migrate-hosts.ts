import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, SHARED_IMAGES } from "../home.ts";

const SCRIPT = resolve(import.meta.dirname, "../../scripts/test-hosts.sh");

export type Host = "a" | "b";

export interface HostRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The two namespaced hosts of scripts/test-hosts.sh for the migration rows: a pair of its own (prefix
 * and state dir per bench process, so a test run at the same time is not disturbed), each with a
 * SNAPVM_HOME linking the shared tiny image; this checkout's built CLI runs on both sides.
 */
export class BenchHosts {
  private readonly prefix = `snapbench${process.pid}`;
  private readonly dir = `/tmp/snapvm-bench-hosts-${process.pid}`;
  private vars: Record<string, string> = {};
  /** A bench cut short (Ctrl-C: run.ts exits after its own cleanup) still takes the hosts down, and every process in them. */
  private readonly onExit = (): void => {
    spawnSync("bash", [SCRIPT, "down"], { env: this.env, stdio: "ignore" });
  };

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, SNAPVM_TEST_HOSTS_PREFIX: this.prefix, SNAPVM_TEST_HOSTS_DIR: this.dir, SNAPVM_REMOTE_COMMAND: `node ${CLI}` };
  }

  private script(args: readonly string[]): Promise<HostRun> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn("bash", [SCRIPT, ...args], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => {
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  async up(): Promise<void> {
    process.on("exit", this.onExit);
    const r = await this.script(["up"]);
    if (r.code !== 0) throw new Error(`test-hosts.sh up failed: ${r.stderr.trim()}`);
    for (const line of r.stdout.split("\n")) {
      const match = /^([A-Z_]+)=(.*)$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) this.vars[match[1]] = match[2];
    }
    for (const host of ["a", "b"] as const) {
      const images = join(this.home(host), "images");
      if (!existsSync(images)) symlinkSync(SHARED_IMAGES, images);
    }
  }

  home(host: Host): string {
    const home = this.vars[host === "a" ? "A_HOME" : "B_HOME"];
    if (home === undefined) throw new Error("the bench hosts are not up");
    return home;
  }

  dest(host: Host): string {
    const dest = this.vars[host === "a" ? "A_DEST" : "B_DEST"];
    if (dest === undefined) throw new Error("the bench hosts are not up");
    return dest;
  }

  run(host: Host, args: readonly string[]): Promise<HostRun> {
    return this.script(["run", host, "node", CLI, ...args]);
  }

  async ok(host: Host, args: readonly string[]): Promise<string> {
    const r = await this.run(host, args);
    if (r.code !== 0) throw new Error(`snapvm ${args.join(" ")} on ${host} exited ${r.code}: ${(r.stderr + r.stdout).trim().slice(0, 400)}`);
    return r.stdout;
  }

  async exec(host: Host, name: string, command: string): Promise<string> {
    return (await this.ok(host, ["exec", name, command])).trim();
  }

  /** Deletes every instance on both hosts, kills any QEMU left that names their homes, and takes the hosts down. */
  async down(): Promise<void> {
    if (this.vars["A_HOME"] !== undefined) {
      for (const host of ["a", "b"] as const) {
        const dir = join(this.home(host), "instances");
        for (const name of existsSync(dir) ? readdirSync(dir) : [])
          if (!name.startsWith(".")) await this.run(host, ["delete", "--force", name]).catch(() => undefined);
        for (const pid of qemuPidsNaming(this.home(host))) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            /* gone */
          }
        }
      }
    }
    const r = await this.script(["down"]);
    process.off("exit", this.onExit);
    if (r.code !== 0) throw new Error(`test-hosts.sh down failed: ${r.stderr.trim()}`);
  }
}

function qemuPidsNaming(home: string): number[] {
  return readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      return cmdline.startsWith("qemu-system") && cmdline.includes(`${home}/`) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}
