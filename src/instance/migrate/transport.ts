import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { pipeline } from "node:stream/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { MigrationDest } from "../../paths/index.ts";
import { shellQuote } from "../../util/shell-quote.ts";
import { sshArgs } from "./ssh.ts";

/** The last lines ssh printed, for an error. */
function stderrTail(child: ChildProcess): () => string {
  let tail = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-2000);
  });
  return () => tail.trim();
}

/** Copies one file to `remotePath` on the destination (`cat >` over ssh); rejects if ssh fails. */
export async function uploadFile(dest: MigrationDest, localPath: string, remotePath: string): Promise<void> {
  const child = spawn("ssh", [...sshArgs(dest), `cat > ${shellQuote([remotePath])}`], { stdio: ["pipe", "ignore", "pipe"] });
  const tail = stderrTail(child);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  await pipeline(createReadStream(localPath), child.stdin);
  const code = await exited;
  if (code !== 0)
    throw new SnapvmError(ErrorCode.MigrationFailed, `copying ${localPath} to the destination failed (ssh exited ${code ?? "by a signal"}): ${tail()}`);
}

export interface Tunnel {
  child: ChildProcess;
  close(): Promise<void>;
}

/**
 * Forwards local unix sockets to the destination's (`ssh -N -L local:remote`); resolves once ssh has
 * made every local socket. Connections are made per use: QEMU connects through them after this.
 */
export async function openTunnel(dest: MigrationDest, forwards: readonly { local: string; remote: string }[], timeoutMs = 20_000): Promise<Tunnel> {
  const options = ["-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", ...forwards.flatMap((f) => ["-L", `${f.local}:${f.remote}`])];
  const child = spawn("ssh", sshArgs(dest, options), { stdio: ["ignore", "ignore", "pipe"] });
  const tail = stderrTail(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.on("close", (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const close = async (): Promise<void> => {
    if (exitCode === undefined) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  while (!forwards.every((f) => existsSync(f.local))) {
    if (exitCode !== undefined || Date.now() > deadline) {
      await close();
      throw new SnapvmError(ErrorCode.MigrationFailed, `the SSH forward to the destination did not come up: ${tail() || "timed out"}`);
    }
    await sleep(20);
  }
  return { child, close };
}
