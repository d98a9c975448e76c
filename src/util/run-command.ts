import { spawn } from "node:child_process";

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** A command that could not run or exited non-zero. Callers wrap it in a SnapvmError with a hint. */
export class CommandFailedError extends Error {
  override readonly name = "CommandFailedError";
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly result: CommandResult | undefined,
    cause?: unknown,
  ) {
    const why =
      result === undefined
        ? `could not run: ${cause instanceof Error ? cause.message : String(cause)}`
        : `exited with ${result.exitCode}: ${lastLines(result.stderr || result.stdout, 5)}`;
    super(`${command} ${args.join(" ")} ${why}`, cause === undefined ? undefined : { cause });
  }
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

/** Runs a command to completion and collects its output; rejects with CommandFailedError unless it exits 0. */
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await runCommandUnchecked(command, args, options);
  if (result.exitCode !== 0) throw new CommandFailedError(command, args, result);
  return result;
}

/** Like runCommand, but a non-zero exit resolves; only failing to start rejects. */
export function runCommandUnchecked(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs,
      killSignal: "SIGKILL",
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (cause) => {
      reject(new CommandFailedError(command, args, undefined, cause));
    });
    child.on("close", (code, signal) => {
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        exitCode: code ?? (signal === null ? 1 : 128 + 9),
      });
    });
    child.stdin.on("error", () => undefined); // the child may exit before reading its input
    child.stdin.end(options.input ?? "");
  });
}
