import { execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { instancePaths, parseInstanceName, scratchDirPrefix, snapvmHome, type RemoteSnapshot } from "../../paths/index.ts";
import { importBundle } from "../bundles/import.ts";
import { claimNewInstance } from "../lifecycle/new-instance.ts";
import { deleteInstance } from "../lifecycle/delete.ts";
import { recordMigration } from "../migrate/record.ts";
import { remoteSnapvm, sshArgs } from "../migrate/ssh.ts";
import { forkInstance, type ForkResult } from "./fork.ts";
import type { RemoteForkResult } from "./remote-lazy.ts";

/** `ssh … snapvm` prints `snapvm: MESSAGE [E_CODE]` and a hint line: that error, as this side's. */
function remoteError(stderr: string, url: string, code: number | null): SnapvmError {
  const line = /snapvm: (.*) \[(E_[A-Z_]+)\]/.exec(stderr);
  const hint = /^\s*hint: (.*)$/m.exec(stderr)?.[1];
  if (line?.[1] !== undefined && line[2] !== undefined)
    return new SnapvmError(line[2] as ErrorCode, `${url}: ${line[1]}`, { ...(hint === undefined ? {} : { hint }), details: { url } });
  if (code === 255)
    return new SnapvmError(ErrorCode.RemoteUnreachable, `cannot reach ${url} over ssh: ${stderr.trim().split("\n").slice(-3).join("; ") || "ssh exited 255"}`, {
      hint: "Check that the host answers `ssh HOST true` without a password prompt (keys or an agent; BatchMode is on).",
      details: { url },
    });
  return new SnapvmError(ErrorCode.MigrationFailed, `exporting ${url} failed (ssh exited ${code ?? "by a signal"}): ${stderr.trim().slice(-500)}`, {
    details: { url },
  });
}

/** The local template an earlier copy of this remote snapshot made, if it is still here. */
async function earlierCopy(template: string, remote: RemoteSnapshot, home: string): Promise<boolean> {
  const marker = instancePaths(parseInstanceName(template), home).importedFrom;
  const recorded = (await readFile(marker, "utf8").then(JSON.parse, () => undefined)) as { url?: string; tag?: string } | undefined;
  return recorded?.url === remote.url && recorded.tag === remote.tag;
}

/**
 * `snapvm fork ssh://HOST[/HOME]/NAME@TAG NEW` (without --lazy): copy first, then fork. The snapshot's
 * host writes its bundle (`snapvm snapshot export NAME TAG --to -` over ssh) into a local import as the
 * template `<instance>-<tag>` (or `template`), which stays, like an s3:// fork's; NEW is a local fork of it.
 * A later fork of the same URL uses that template without copying. Undo: a failed import leaves nothing;
 * a template imported by this run is removed when the fork fails.
 */
export async function copyForkFromRemote(
  remote: RemoteSnapshot,
  newName: string,
  options: { home?: string; template?: string; onProgress?: (step: string) => void } = {},
): Promise<RemoteForkResult & { template: string; copied: boolean; fork: ForkResult }> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const home = options.home ?? snapvmHome();
  const step = options.onProgress ?? (() => undefined);
  const name = parseInstanceName(newName);
  claimNewInstance(name, home);
  const template = parseInstanceName(options.template ?? `${remote.instance}-${remote.tag}`.slice(0, 40).replace(/-+$/, ""));
  const copied = !(existsSync(instancePaths(template, home).dir) && (await earlierCopy(template, remote, home)));
  let fileBytes = 0;
  if (copied) {
    claimNewInstance(template, home);
    step(`copying ${remote.url}`);
    const scratch = await mkdtemp(scratchDirPrefix("import"));
    const fifo = join(scratch, "bundle");
    try {
      await promisify(execFile)("mkfifo", ["-m", "600", fifo]);
      const ssh = spawn("ssh", [...sshArgs(remote.host), remoteSnapvm(remote.host, ["snapshot", "export", remote.instance, remote.tag, "--to", "-"])], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      ssh.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
      const exited = new Promise<number | null>((resolve) => ssh.on("close", resolve));
      ssh.stdout.on("data", (chunk: Buffer) => (fileBytes += chunk.length));
      const sending = pipeline(ssh.stdout, createWriteStream(fifo));
      sending.catch(() => undefined);
      const imported = await importBundle({ kind: "file", path: fifo }, { home, as: template, origin: { url: remote.url }, onProgress: step }).catch(
        async (error: unknown) => {
          ssh.kill("SIGTERM");
          const code = await exited;
          // The export's own error explains a truncated bundle better than the import's.
          throw code !== 0 && !(isSnapvmError(error) && error.code === ErrorCode.InstanceExists) ? remoteError(stderr, remote.url, code) : error;
        },
      );
      const code = await exited;
      if (code !== 0) {
        await deleteInstance(parseInstanceName(imported.name), { force: true, home });
        throw remoteError(stderr, remote.url, code);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } else step(`using ${template}, copied from ${remote.url} before`);
  let fork: ForkResult;
  try {
    fork = await forkInstance(`${template}@${remote.tag}`, name, { home, onProgress: step });
  } catch (error) {
    if (copied) await deleteInstance(template, { force: true, home }).catch(() => undefined);
    throw error;
  }
  const failed = fork.forks[0]?.failed;
  if (failed !== undefined) {
    await deleteInstance(name, { force: true, home }).catch(() => undefined);
    if (copied) await deleteInstance(template, { force: true, home }).catch(() => undefined);
    throw new SnapvmError(failed.code, failed.message, { ...(failed.hint === undefined ? {} : { hint: failed.hint }) });
  }
  await recordMigration(instancePaths(name, home), {
    cameFrom: { peer: `${remote.url} (copied, fork of ${template}@${remote.tag})`, startedAt, finishedAt: new Date().toISOString() },
  });
  const totalMs = performance.now() - started;
  return { name, from: remote.url, lazy: false, answeringMs: totalMs, totalMs, fileBytes, template, copied, fork };
}
