import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { MigrationDest } from "../../paths/index.ts";
import { shellQuote } from "../../util/shell-quote.ts";
import { sshArgs } from "../migrate/ssh.ts";

/** The last lines ssh printed, for an error. */
function stderrTail(child: ChildProcess): () => string {
  let tail = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-2000);
  });
  return () => tail.trim();
}

/**
 * Copies `remotePath` on the other host to `localPath` here (`cat` over ssh): the fork's side pulls
 * the snapshot's files, since the snapshot's host may have no way to reach this one.
 */
export async function downloadFile(host: MigrationDest, remotePath: string, localPath: string, sshOptions: readonly string[] = []): Promise<void> {
  const child = spawn("ssh", [...sshArgs(host, sshOptions), `cat -- ${shellQuote([remotePath])}`], { stdio: ["ignore", "pipe", "pipe"] });
  const tail = stderrTail(child);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  await pipeline(child.stdout, createWriteStream(localPath, { flags: "wx", mode: 0o600 }));
  const code = await exited;
  if (code !== 0)
    throw new SnapvmError(ErrorCode.MigrationFailed, `copying ${remotePath} from the snapshot's host failed (ssh exited ${code ?? "by a signal"}): ${tail()}`);
}
