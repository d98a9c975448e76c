import { spawn, type ChildProcess } from "node:child_process";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { ClockPrecision, ExecOptions, ExecResult, GuestExec, GuestRoute, WaitReadyOptions } from "../guest/guest-exec.ts";
import type { SshAccess } from "../../config/launch-spec.ts";
import { SSH_BINARY, SSH_FAILURE_EXIT, SSH_HOST, sshCommandArgs } from "./ssh-args.ts";

/** Between attempts while the guest boots; each failed attempt already took a connect or a refusal. */
const RETRY_DELAY_MS = 500;
/** One readiness attempt may not take longer than this (a TCG guest doing key exchange is slow). */
const ATTEMPT_MAX_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs commands in a cloud image over SSH with the system `ssh` client, one connection per command.
 * Exit status 255 is ssh's own failure and rejects with E_GUEST_CHANNEL carrying ssh's stderr; so a
 * remote command that itself exits 255 (or dies of a signal) is reported as a failure too.
 */
export class SshGuest implements GuestExec {
  private readonly running = new Set<ChildProcess>();
  private closed = false;

  constructor(
    private readonly access: SshAccess,
    private readonly label: string,
  ) {}

  private get where(): string {
    return `${this.access.user}@${SSH_HOST}:${this.access.port}`;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.run(command, options.stdin ?? Buffer.alloc(0), options.timeoutMs ?? 600_000, 10);
    if (result.exitCode === SSH_FAILURE_EXIT) {
      throw new SnapvmError(ErrorCode.GuestChannel, `${this.label}: ssh to ${this.where} failed: ${lastLine(result.stderr) || "exit status 255"}`, {
        hint: "Is sshd running in the guest, and did cloud-init install snapvm's key? `snapvm logs` shows the console.",
        details: { port: this.access.port, user: this.access.user },
      });
    }
    return result;
  }

  async syncClock(options: { timeoutMs?: number } = {}): Promise<ClockPrecision> {
    await this.setClock(Math.round(Date.now() / 1000), options);
    return "seconds";
  }

  route(): GuestRoute {
    return "ssh";
  }

  requestShutdown(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** Through sudo: cloud-init grants snapvm's user passwordless sudo. */
  async setClock(epochSeconds: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const result = await this.exec(`sudo -n date -u -s @${Math.trunc(epochSeconds)}`, { timeoutMs: options.timeoutMs ?? 10_000 });
    if (result.exitCode !== 0) {
      throw new SnapvmError(ErrorCode.GuestChannel, `${this.label}: setting the guest's clock exited with ${result.exitCode}: ${lastLine(result.stderr)}`);
    }
  }

  /**
   * Retries a trivial command until it succeeds: before the guest's network and sshd are up, QEMU's
   * forward accepts and then drops the connection, or the handshake stalls until ConnectTimeout.
   */
  async waitReady(timeoutMs: number, options: WaitReadyOptions & { signal?: AbortSignal } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no attempt finished";
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) break;
      // Another route answered first (cloud-guest.ts): no new attempt; one under way ends on its own.
      if (options.signal?.aborted === true) throw new SnapvmError(ErrorCode.GuestChannel, `${this.label}: waiting for SSH was abandoned`);
      const attemptMs = Math.min(left, ATTEMPT_MAX_MS);
      try {
        const result = await this.run("true", Buffer.alloc(0), attemptMs, Math.max(1, Math.min(10, Math.floor(attemptMs / 1000))));
        if (result.exitCode === 0) return;
        last = lastLine(result.stderr) || `exit status ${result.exitCode}`;
      } catch (error) {
        if (!(error instanceof SnapvmError) || error.code !== ErrorCode.GuestTimeout) throw error;
        // A last attempt cut short by the deadline says less than the failure before it.
        if (attemptMs >= 1000) last = `no answer within ${attemptMs} ms`;
      }
      await sleep(Math.min(RETRY_DELAY_MS, Math.max(0, deadline - Date.now())));
    }
    throw new SnapvmError(ErrorCode.GuestTimeout, `${this.label}: SSH on ${this.where} did not answer within ${timeoutMs} ms (last: ${last})`, {
      hint: "Cloud images under TCG can take minutes to boot; raise timeouts.boot, and see the console with `snapvm logs`.",
      details: { port: this.access.port, user: this.access.user },
    });
  }

  /** One ssh process; resolves with its status (255 included), rejects only on timeout, close or spawn failure. */
  private run(command: string, stdin: Buffer, timeoutMs: number, connectTimeoutS: number): Promise<ExecResult> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const child = spawn(SSH_BINARY, sshCommandArgs(this.access, command, { connectTimeoutS }), { stdio: ["pipe", "pipe", "pipe"] });
      this.running.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let failure: SnapvmError | undefined;
      const timer = setTimeout(() => {
        failure = new SnapvmError(ErrorCode.GuestTimeout, `${this.label}: the command over SSH did not finish within ${timeoutMs} ms`);
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      child.stdin.on("error", () => undefined); // ssh may exit before reading all of stdin
      child.stdin.end(stdin);
      child.on("error", (cause) => {
        failure = new SnapvmError(ErrorCode.ExternalTool, `${this.label}: cannot run ${SSH_BINARY}: ${cause.message}`, {
          hint: "Install the OpenSSH client (scripts/setup-host.sh).",
          cause,
        });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        this.running.delete(child);
        if (this.closed && failure === undefined) failure = this.closedError();
        if (failure !== undefined) {
          reject(failure);
          return;
        }
        resolve({ exitCode: code ?? (signal === null ? SSH_FAILURE_EXIT : 128 + 9), stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
    });
  }

  private closedError(): SnapvmError {
    return new SnapvmError(ErrorCode.GuestChannel, `${this.label}: the SSH connection to the guest was closed`);
  }

  close(): void {
    this.closed = true;
    for (const child of this.running) child.kill("SIGKILL");
  }
}

function lastLine(stderr: Buffer): string {
  return stderr.toString("utf8").trimEnd().split("\n").at(-1)?.trim() ?? "";
}
