import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { ImportResult } from "../../src/instance/bundles/import.ts";
import type { StartResult } from "../../src/instance/lifecycle/start.ts";
import { diskLayerPath, instancePaths, parseInstanceName, parseSnapshotTag, snapshotPaths } from "../../src/paths/index.ts";
import type { StateManifest } from "../../src/snapshot/manifest.ts";
import type { BenchHome } from "../home.ts";
import type { AgentGuest } from "../guest/running.ts";
import { agentGuest, answerThroughAgent } from "./snapvm-common.ts";
import type { ImportFigures, RestoreFigures } from "./types.ts";

/** The public key `age-keygen` and `snapvm key generate` write beside the identity. */
export async function recipientOf(identityFile: string): Promise<string> {
  const text = await readFile(identityFile, "utf8");
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(text)?.[1];
  if (recipient === undefined) throw new Error(`${identityFile} has no "# public key: age1…" line`);
  return recipient;
}

/** Runs a bash script with `set -o pipefail` (arguments as $1…), and returns its wall time; a failure throws with its stderr. */
export function timedShell(script: string, args: readonly string[] = []): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn("bash", ["-euo", "pipefail", "-c", script, "bench", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise(performance.now() - started);
      else reject(new Error(`\`${script}\` exited ${code ?? "on a signal"}: ${stderr.trim()}`));
    });
  });
}

export interface SnapshotFile {
  name: string;
  path: string;
}

/**
 * The files a snapshot needs on another host, found as a user would find them: the state files its
 * manifest lists, the disk chain under its frozen layer (`qemu-img info --backing-chain`), and the boot
 * files its launch names. The same set `snapvm snapshot export` sends (less SSH keys, which the tiny
 * image has none of).
 */
export async function snapshotFiles(home: BenchHome, instance: string, tag: string): Promise<SnapshotFile[]> {
  const paths = instancePaths(parseInstanceName(instance), home.dir);
  const snapshot = snapshotPaths(paths, parseSnapshotTag(tag));
  const manifest = JSON.parse(await readFile(snapshot.manifest, "utf8")) as StateManifest;
  if (manifest.snapshot === undefined) throw new Error(`${snapshot.manifest} is not a snapshot's manifest`);
  const files = manifest.files.map((f) => `${snapshot.dir}/${f.name}`);
  files.push(...(await backingChain(diskLayerPath(paths, manifest.snapshot.diskLayer))));
  const spec = manifest.launch.spec;
  if (spec.boot.kind === "kernel") files.push(spec.boot.kernel, spec.boot.initrd);
  if (spec.cidataIso !== undefined) files.push(spec.cidataIso);
  const named = files.map((path) => ({ name: basename(path), path }));
  const names = new Set(named.map((f) => f.name));
  if (names.size !== named.length) throw new Error(`two of the snapshot's files share a name: ${files.join(", ")}`);
  return named;
}

async function backingChain(top: string): Promise<string[]> {
  const chain: string[] = [];
  await new Promise<void>((resolvePromise, reject) => {
    // -U: the running guest's QEMU holds the chain open; reading the headers is safe.
    const child = spawn("qemu-img", ["info", "-U", "--backing-chain", "--output=json", top], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new Error(`qemu-img info ${top} exited ${code ?? "on a signal"}: ${stderr.trim()}`));
        return;
      }
      for (const image of JSON.parse(stdout) as { filename: string }[]) chain.push(image.filename);
      resolvePromise();
    });
  });
  return chain;
}

interface RestoreJson {
  started?: StartResult;
}

export interface ImportedGuest {
  import: ImportFigures;
  restore: RestoreFigures;
  guest: AgentGuest;
}

/**
 * `snapvm snapshot import BUNDLE --as NAME` into `home` (a second SNAPVM_HOME), then the user's way
 * to a running guest: `snapvm snapshot restore` (the imported instance is stopped, so this only winds
 * it back to the snapshot) and `snapvm start`, timed together to the guest answering through its
 * agent; the wall time of a `snapvm exec` after it is recorded beside (cliExecMs).
 */
export async function importAndStart(home: BenchHome, bundle: string, name: string, identity: string | undefined): Promise<ImportedGuest> {
  const imported = await home.cliJson(["snapshot", "import", bundle, "--as", name, ...(identity === undefined ? [] : ["--identity", identity])]);
  const result = imported.value as ImportResult;
  const started = performance.now();
  const restored = await home.cliJson(["snapshot", "restore", result.name, result.tag]);
  let status = (restored.value as RestoreJson).started?.status;
  const extra: Record<string, number> = { restoreCliMs: restored.run.wallMs };
  if (status === undefined) {
    const start = await home.cliJson(["start", result.name]);
    const value = start.value as StartResult;
    status = value.status;
    extra["startCliMs"] = start.run.wallMs;
    if (status.bootKind !== "restore") throw new Error(`snapvm start cold booted the imported instance: ${value.notices.join("; ")}`);
  }
  if (status.readyMs !== undefined) extra["qemuToReadyMs"] = status.readyMs;
  const guest = agentGuest(home, result.name, status);
  const restore = await answerThroughAgent(guest, started, extra);
  const exec = await home.cli(["exec", result.name, "--", "true"]);
  if (exec.code !== 0) throw new Error(`snapvm exec in the imported instance failed: ${exec.stderr}`);
  return {
    import: { totalMs: imported.run.wallMs, extra: { cliReportedMs: result.totalMs, dataBytes: result.dataBytes, bundleBytes: result.bundleBytes } },
    restore: { ...restore, extra: { ...restore.extra, cliExecMs: exec.wallMs } },
    guest,
  };
}

/** Deletes an imported instance, a half-imported or half-started one included. */
export async function removeImported(home: BenchHome, name: string): Promise<void> {
  if (!existsSync(home.instanceDir(name))) return;
  const run = await home.deleteInstance(name);
  if (run.code !== 0) throw new Error(`could not delete the imported instance ${name}: ${run.stderr.trim()}`);
}
