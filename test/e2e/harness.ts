import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { sampleManifest } from "../../src/snapshot/compress-fixture.ts";

/** The built CLI (`npm run build` first): the e2e tier drives snapvm exactly as a user does, with no QEMU. */
export const CLI = resolve(import.meta.dirname, "../../dist/bin/snapvm.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A scratch directory `root` holding a SNAPVM_HOME (`home`) and, beside it, files a traversal could
 * reach (`root/victim` looks like an instance directory). Instances are faked by writing their files
 * by hand: snapvm.yaml, snapshots/TAG/manifest.json, origin.json.
 */
export class FakeHome {
  readonly root: string;
  readonly home: string;

  constructor() {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    this.root = mkdtempSync(join(tmpdir(), "snapvm-e2e-"));
    this.home = join(this.root, "home");
    mkdirSync(join(this.home, "instances"), { recursive: true });
    mkdirSync(join(this.root, "victim"));
    writeFileSync(join(this.root, "victim", "snapvm.yaml"), "cpus: 1\n");
  }

  instanceDir(name: string): string {
    return join(this.home, "instances", name);
  }

  /** An instance that was created and never started: just its config. */
  addInstance(name: string, config = "cpus: 1\n"): string {
    const dir = this.instanceDir(name);
    mkdirSync(join(dir, "snapshots"), { recursive: true });
    writeFileSync(join(dir, "snapvm.yaml"), config);
    return dir;
  }

  /** A snapshot directory with a manifest (the memory and device files it lists are absent: no VM). */
  addSnapshot(instance: string, tag: string, manifestText?: string): string {
    const dir = join(this.instanceDir(instance), "snapshots", tag);
    mkdirSync(dir, { recursive: true });
    const manifest = sampleManifest();
    manifest.snapshot = { tag, diskLayer: "L1", hasMemory: true, live: true, memoryCopy: "sparse-copy" };
    writeFileSync(join(dir, "manifest.json"), manifestText ?? JSON.stringify(manifest));
    return dir;
  }

  /** An instance whose origin.json says it was forked from instance@tag. */
  addFork(name: string, from: { instance: string; tag: string }): string {
    const dir = this.addInstance(name);
    writeFileSync(join(dir, "origin.json"), JSON.stringify({ ...from, createdAt: "2026-11-22T10:00:00.000Z" }));
    return dir;
  }

  /** Every path under root with its kind and size: what a command must not change when it refuses. */
  tree(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          out.push(`${relative(this.root, path)}/`);
          walk(path);
        } else {
          out.push(`${relative(this.root, path)} ${statSync(path).size}`);
        }
      }
    };
    walk(this.root);
    return out;
  }

  spawn(args: readonly string[], env: Record<string, string> = {}): ChildProcess & { result: Promise<CliResult> } {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, SNAPVM_HOME: this.home, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const result = new Promise<CliResult>((resolvePromise, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => {
        resolvePromise({ code, signal, stdout, stderr });
      });
    });
    return Object.assign(child, { result });
  }

  run(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    return this.spawn(args, env).result;
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Runs `tasks` at most `limit` at a time (each is a CLI process; the machine may have 2 cores). */
export async function inBatches<T>(tasks: readonly (() => Promise<T>)[], limit = 4): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      if (task !== undefined) results[i] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** The `{"error": {...}}` object a command prints on stdout under --json. */
export function jsonError(stdout: string): { code: string; message: string; hint?: string; details: Record<string, unknown> } {
  const parsed = JSON.parse(stdout) as { error?: { code: string; message: string; hint?: string; details: Record<string, unknown> } };
  if (parsed.error === undefined) throw new Error(`no "error" in ${stdout}`);
  return parsed.error;
}
