// Two test hosts (scripts/test-hosts.sh) for the migration tests, each a SNAPVM_HOME of its own that
// links the shared tiny image; the built CLI of this worktree runs on both sides.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, SHARED_IMAGES, type CliResult } from "./harness.ts";

const SCRIPT = resolve(import.meta.dirname, "../../scripts/test-hosts.sh");

export type Host = "a" | "b";

export class MigrationHosts {
  private vars: Record<string, string> = {};

  constructor(
    private readonly prefix = process.env["SNAPVM_TEST_HOSTS_PREFIX"] ?? "snapmig",
    private readonly dir = process.env["SNAPVM_TEST_HOSTS_DIR"] ?? "/tmp/snapmig-hosts",
  ) {}

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, SNAPVM_TEST_HOSTS_PREFIX: this.prefix, SNAPVM_TEST_HOSTS_DIR: this.dir, SNAPVM_REMOTE_COMMAND: `node ${CLI}` };
  }

  private script(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn("bash", [SCRIPT, ...args], { env: { ...this.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
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
    const r = await this.script(["up"]);
    if (r.code !== 0) throw new Error(`test-hosts.sh up failed: ${r.stderr}`);
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
    if (home === undefined) throw new Error("hosts are not up");
    return home;
  }

  dest(host: Host): string {
    const dest = this.vars[host === "a" ? "A_DEST" : "B_DEST"];
    if (dest === undefined) throw new Error("hosts are not up");
    return dest;
  }

  /** `snapvm ARGS` on host `host`; `remoteEnv` is set for the snapvm that ssh starts on the other host. */
  run(host: Host, args: readonly string[], remoteEnv = ""): Promise<CliResult> {
    return this.script(["run", host, "node", CLI, ...args], remoteEnv === "" ? {} : { SNAPVM_REMOTE_COMMAND: `${remoteEnv} node ${CLI}` });
  }

  /** `snapvm ARGS` on host `host` with `env` set for that snapvm only (not for one ssh starts on the other host). */
  runWithEnv(host: Host, env: Record<string, string>, args: readonly string[]): Promise<CliResult> {
    return this.script(["run", host, "env", ...Object.entries(env).map(([key, value]) => `${key}=${value}`), "node", CLI, ...args]);
  }

  /** The veth down on both ends (a link cut mid-migration); heal() brings it back. */
  async cut(): Promise<void> {
    const r = await this.script(["cut"]);
    if (r.code !== 0) throw new Error(`test-hosts.sh cut failed: ${r.stderr}`);
  }

  async heal(): Promise<void> {
    const r = await this.script(["heal"]);
    if (r.code !== 0) throw new Error(`test-hosts.sh heal failed: ${r.stderr}`);
  }

  async ok(host: Host, args: readonly string[]): Promise<string> {
    const r = await this.run(host, args);
    if (r.code !== 0) throw new Error(`snapvm ${args.join(" ")} on ${host} exited ${r.code}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async exec(host: Host, name: string, command: string): Promise<string> {
    return (await this.ok(host, ["exec", name, command])).trim();
  }

  instances(host: Host): string[] {
    const dir = join(this.home(host), "instances");
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  /** QEMU processes whose command line names this host's home. */
  qemuPids(host: Host): number[] {
    const home = this.home(host);
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

  /** Deletes every instance on both hosts, kills any QEMU left, and takes the hosts down. */
  async down(): Promise<void> {
    for (const host of ["a", "b"] as const) {
      if (this.vars["A_HOME"] === undefined) break;
      for (const name of this.instances(host)) if (!name.startsWith(".")) await this.run(host, ["delete", "--force", name]).catch(() => undefined);
      for (const pid of this.qemuPids(host)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
    await this.script(["down"]);
  }
}
