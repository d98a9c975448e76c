import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import type { SshAccess } from "../../config/launch-spec.ts";
import type { ClockPrecision, ExecOptions, ExecResult, GuestExec, GuestRoute, WaitReadyOptions } from "../guest/guest-exec.ts";
import type { SshGuest } from "../ssh/ssh-guest.ts";
import { trace } from "../../util/trace.ts";
import { QgaClient } from "./client.ts";
import { qgaExec, qgaReadFile, qgaShutdown } from "./commands.ts";
import { parsePasswdEntry, runuserArgv, setprivArgv, type ExecArgv, type GuestAccount } from "./guest-account.ts";
import { setClockToHost, type ClockRoute } from "./guest-clock.ts";

/** How often readiness asks QEMU whether the guest opened the agent's port (a QMP round trip, ~1 ms). */
const PORT_POLL_MS = 100;
/**
 * SSH readiness starts this late: a restored guest whose agent had its port open answers through it
 * in ~0.1 s, and an SSH handshake meanwhile would cost a TCG guest CPU. A guest without the agent
 * pays this once per start.
 */
const SSH_GRACE_MS = 1000;
/** One sync attempt; a new one is sent after it (the agent may have been restarting). */
const SYNC_ATTEMPT_MS = 1000;
const DEFAULT_EXEC_TIMEOUT_MS = 600_000;
const PASSWD_TIMEOUT_MS = 10_000;
/** Between looks for the SSH user while cloud-init has not made it yet. */
const USER_POLL_MS = 500;
/**
 * SNAPVM_FORCE_SSH=1 in the agent's environment (the one `start` spawns) leaves the guest agent
 * unused: readiness, commands and the clock go over SSH, as for a guest without it. For comparisons
 * (the benchmark's cloud guest baseline) and for working around a misbehaving guest agent.
 */
const FORCE_SSH = process.env["SNAPVM_FORCE_SSH"] === "1";

export interface CloudGuestChannels {
  ssh: SshGuest;
  access: SshAccess;
  qgaSocket: string;
  /** Whether the guest has the agent's virtio-serial port open now (QEMU knows; a restore brings it back open). */
  qgaPortOpen: () => Promise<boolean>;
  label: string;
}

/**
 * A cloud image: commands go through qemu-guest-agent (guest-exec) once it answered, else over SSH,
 * which also stays the route for guests without the agent. Readiness is whichever answers first: the
 * agent's sync (as soon as the guest opened its port) or SSH (after a grace period). Commands through
 * the agent run as the SSH user in their home directory (setpriv, else runuser), as they would over SSH.
 */
export class CloudGuest implements GuestExec {
  private qga: QgaClient | undefined;
  private current: GuestRoute = "ssh";
  private closed = false;
  /** The SSH user's passwd entry, read once per connection (by readiness at a cold boot, else on first need). */
  private account: Promise<GuestAccount | undefined> | undefined;
  /** False once the guest had no setpriv: runuser from then on. */
  private setpriv = true;
  private readonly clockRoute: ClockRoute = {};

  constructor(private readonly channels: CloudGuestChannels) {}

  route(): GuestRoute {
    return this.current;
  }

  async waitReady(timeoutMs: number, options: WaitReadyOptions = {}): Promise<void> {
    if (FORCE_SSH) return this.channels.ssh.waitReady(timeoutMs);
    const abandon = new AbortController();
    const viaAgent = this.waitForAgent(timeoutMs, abandon.signal, options.resumed === true);
    const viaSsh = new Promise<void>((resolve) => setTimeout(resolve, Math.min(SSH_GRACE_MS, timeoutMs))).then(() => {
      if (abandon.signal.aborted) throw new SnapvmError(ErrorCode.GuestChannel, `${this.channels.label}: waiting for SSH was abandoned`);
      return this.channels.ssh.waitReady(Math.max(1, timeoutMs - SSH_GRACE_MS), { signal: abandon.signal });
    });
    try {
      const winner = await Promise.any([viaAgent.then(() => "qemu-guest-agent" as const), viaSsh.then(() => "ssh" as const)]);
      this.current = winner;
    } catch (error) {
      // Both failed: SSH's reason says more (it names the port and the last failure); the agent's is added.
      const [agentError, sshError] = error instanceof AggregateError ? (error.errors as unknown[]) : [error, error];
      if (!(sshError instanceof SnapvmError)) throw sshError;
      const agentWhy = agentError instanceof Error ? agentError.message.replace(`${this.channels.label}: `, "") : String(agentError);
      throw new SnapvmError(sshError.code, `${sshError.message}; and ${agentWhy}`, {
        ...(sshError.hint === undefined ? {} : { hint: sshError.hint }),
        cause: error,
        details: sshError.details,
      });
    } finally {
      abandon.abort();
      viaAgent.catch(() => undefined);
      viaSsh.catch(() => undefined);
    }
  }

  /**
   * Resolves once the agent answered a sync and, unless `resumed`, the SSH user exists (cloud-init
   * makes it long after the agent answers at a cold boot). A resumed guest ran with that user before:
   * its passwd entry is read later, when the agent is idle (see syncClock). Keeps trying until `signal`
   * or the timeout.
   */
  private async waitForAgent(timeoutMs: number, signal: AbortSignal, resumed: boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!signal.aborted && !this.closed) {
      if (Date.now() >= deadline)
        throw new SnapvmError(ErrorCode.GuestTimeout, `${this.channels.label}: qemu-guest-agent did not answer within ${timeoutMs} ms`);
      if (await this.channels.qgaPortOpen()) {
        trace("qga: port open");
        this.qga ??= await QgaClient.connect(this.channels.qgaSocket, this.channels.label);
        try {
          const attemptMs = Math.min(SYNC_ATTEMPT_MS, Math.max(1, deadline - Date.now()));
          await this.qga.sync(attemptMs);
          trace("qga: synced");
          if (resumed) return;
          const account = await this.readAccount(this.qga, attemptMs);
          trace("qga: user checked");
          if (account !== undefined) {
            this.account = Promise.resolve(account);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, USER_POLL_MS));
        } catch (error) {
          if (this.qga.closed) throw error;
        }
      } else await new Promise((resolve) => setTimeout(resolve, PORT_POLL_MS));
    }
    throw new SnapvmError(ErrorCode.GuestChannel, `${this.channels.label}: waiting for qemu-guest-agent was abandoned`);
  }

  /** The SSH user's passwd entry, read by the agent itself from /etc/passwd: no process in the guest. */
  private async readAccount(qga: QgaClient, timeoutMs: number): Promise<GuestAccount | undefined> {
    const passwd = (await qgaReadFile(qga, "/etc/passwd", 1024 * 1024, timeoutMs)).toString("utf8");
    return parsePasswdEntry(passwd, this.channels.access.user);
  }

  /** Read once; a failed read is tried again at the next command. */
  private accountOf(qga: QgaClient): Promise<GuestAccount | undefined> {
    if (this.account === undefined) {
      const reading = this.readAccount(qga, PASSWD_TIMEOUT_MS);
      this.account = reading;
      reading.catch(() => {
        if (this.account === reading) this.account = undefined;
      });
    }
    return this.account;
  }

  private agent(): QgaClient | undefined {
    return this.current === "qemu-guest-agent" && this.qga !== undefined && !this.qga.closed ? this.qga : undefined;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const agent = this.agent();
    trace("exec: asked", { route: this.current });
    if (agent === undefined) return this.channels.ssh.exec(command, options);
    const run = (argv: ExecArgv): Promise<ExecResult> =>
      qgaExec(agent, { ...argv, stdin: options.stdin ?? Buffer.alloc(0), timeoutMs: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS });
    // No entry (or no readable /etc/passwd): runuser, which looks the user up itself.
    const account = this.setpriv ? await this.accountOf(agent).catch(() => undefined) : undefined;
    if (account !== undefined) {
      try {
        return await run(setprivArgv(account, command));
      } catch (error) {
        // The agent could not start setpriv (a guest without util-linux's): runuser from now on.
        if (!isSnapvmError(error) || error.details["refusedCommand"] !== "guest-exec") throw error;
        this.setpriv = false;
      }
    }
    return run(runuserArgv(this.channels.access.user, command));
  }

  /**
   * Through the agent when it answers (guest-clock.ts: to a few ms, no `hwclock`), else `date -s`
   * over SSH (to the second). Then the SSH user's passwd entry is read, if not yet: the agent is idle
   * until the first command, which needs it.
   */
  async syncClock(options: { timeoutMs?: number } = {}): Promise<ClockPrecision> {
    const agent = this.agent();
    if (agent === undefined) return this.channels.ssh.syncClock(options);
    await setClockToHost(agent, options.timeoutMs ?? 10_000, this.clockRoute);
    this.accountOf(agent).catch(() => undefined);
    return "exact";
  }

  async requestShutdown(timeoutMs: number): Promise<boolean> {
    const agent = this.agent();
    if (agent === undefined) return false;
    await qgaShutdown(agent, timeoutMs);
    return true;
  }

  close(): void {
    this.closed = true;
    this.qga?.close();
    this.channels.ssh.close();
  }
}
