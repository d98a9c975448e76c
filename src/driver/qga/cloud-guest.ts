import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { SshAccess } from "../../config/launch-spec.ts";
import type { ClockPrecision, ExecOptions, ExecResult, GuestExec, GuestRoute } from "../guest/guest-exec.ts";
import type { SshGuest } from "../ssh/ssh-guest.ts";
import { QgaClient } from "./client.ts";
import { qgaClockOffset, qgaExec, qgaReadFile, qgaSetTimeToHost, qgaShutdown } from "./commands.ts";

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
/** A clock reading further off than this after guest-set-time sets it again (each set costs the guest's `hwclock -w`, 0.5–1 s). */
const CLOCK_TOLERANCE_MS = 10;
/** Between looks for the SSH user while cloud-init has not made it yet. */
const USER_POLL_MS = 500;

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
 * the agent run as the SSH user in their home directory (runuser), as they would over SSH.
 */
export class CloudGuest implements GuestExec {
  private qga: QgaClient | undefined;
  private current: GuestRoute = "ssh";
  private closed = false;

  constructor(private readonly channels: CloudGuestChannels) {}

  route(): GuestRoute {
    return this.current;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const abandon = new AbortController();
    const viaAgent = this.waitForAgent(timeoutMs, abandon.signal);
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

  /** Resolves once the agent answered a sync; keeps trying until `signal` or the timeout. */
  private async waitForAgent(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!signal.aborted && !this.closed) {
      if (Date.now() >= deadline)
        throw new SnapvmError(ErrorCode.GuestTimeout, `${this.channels.label}: qemu-guest-agent did not answer within ${timeoutMs} ms`);
      if (await this.channels.qgaPortOpen()) {
        this.qga ??= await QgaClient.connect(this.channels.qgaSocket, this.channels.label);
        try {
          const attemptMs = Math.min(SYNC_ATTEMPT_MS, Math.max(1, deadline - Date.now()));
          await this.qga.sync(attemptMs);
          if (await this.userExists(this.qga, attemptMs)) return;
          await new Promise((resolve) => setTimeout(resolve, USER_POLL_MS));
        } catch (error) {
          if (this.qga.closed) throw error;
        }
      } else await new Promise((resolve) => setTimeout(resolve, PORT_POLL_MS));
    }
    throw new SnapvmError(ErrorCode.GuestChannel, `${this.channels.label}: waiting for qemu-guest-agent was abandoned`);
  }

  /**
   * Whether cloud-init has made the SSH user yet: at a cold boot the agent answers long before, and
   * commands run as that user. Read from /etc/passwd by the agent itself: no process in the guest.
   */
  private async userExists(qga: QgaClient, timeoutMs: number): Promise<boolean> {
    const passwd = (await qgaReadFile(qga, "/etc/passwd", 1024 * 1024, timeoutMs)).toString("utf8");
    return passwd.split("\n").some((line) => line.startsWith(`${this.channels.access.user}:`));
  }

  private agent(): QgaClient | undefined {
    return this.current === "qemu-guest-agent" && this.qga !== undefined && !this.qga.closed ? this.qga : undefined;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const agent = this.agent();
    if (agent === undefined) return this.channels.ssh.exec(command, options);
    return qgaExec(agent, {
      path: "runuser",
      // `cd` alone goes to the user's home, where SSH would start; runuser sets HOME, SHELL, USER, LOGNAME.
      args: ["-u", this.channels.access.user, "--", "sh", "-c", `cd || exit 1\n${command}`],
      stdin: options.stdin ?? Buffer.alloc(0),
      timeoutMs: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
    });
  }

  /**
   * Through the agent when it answers, else `date -s` over SSH (to the second). The host's time in the
   * request is ahead by half a guest-get-time round trip (the request's way in). A reading afterwards
   * that is certainly off by more than CLOCK_TOLERANCE_MS (a TCG guest just restored can take tens of
   * ms to act on its first guest-set-time: 53 ms was seen under load) sets it once more, the agent's
   * code now warm, ahead by half of that reading's round trip.
   */
  async syncClock(options: { timeoutMs?: number } = {}): Promise<ClockPrecision> {
    const agent = this.agent();
    if (agent === undefined) return this.channels.ssh.syncClock(options);
    const timeoutMs = options.timeoutMs ?? 10_000;
    await qgaSetTimeToHost(agent, timeoutMs, (await qgaClockOffset(agent, timeoutMs)).roundTripMs / 2);
    const reading = await qgaClockOffset(agent, timeoutMs);
    if (Math.abs(reading.offsetMs) - reading.roundTripMs / 2 > CLOCK_TOLERANCE_MS) await qgaSetTimeToHost(agent, timeoutMs, reading.roundTripMs / 2);
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
