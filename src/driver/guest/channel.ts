import type { Socket } from "node:net";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { connectUnixWithRetry } from "../../util/connect-unix.ts";
import { LineReader } from "../../util/line-reader.ts";
import type { ClockPrecision, ExecResult, GuestExec, GuestRoute, WaitReadyOptions } from "./guest-exec.ts";
import { encodeExec, encodePing, encodeTime, parseReply, TIME_VERB_SINCE, type GuestReply } from "./protocol.ts";

/** Readiness sends a ping this often until one is answered. */
const PING_INTERVAL_MS = 250;

interface Pending {
  resolve: (reply: GuestReply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Client for the guest agent. QEMU holds guest data until the guest opens its port, so requests
 * sent before the guest is up are answered once it is; stale answers to ids nobody waits for are dropped.
 */
export class GuestChannel implements GuestExec {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: SnapvmError | undefined;
  /** The protocol version the guest agent last announced in a PONG; 1 until it has. */
  private peerVersion = 1;

  private constructor(
    private readonly socket: Socket,
    private readonly label: string,
  ) {
    const reader = new LineReader((line) => {
      this.onLine(line);
    });
    socket.on("data", (chunk: Buffer) => {
      reader.push(chunk);
    });
    socket.on("error", () => undefined); // "close" follows and rejects what is pending
    socket.on("close", () => {
      this.closedError = new SnapvmError(ErrorCode.GuestChannel, `${label}: the guest channel closed`);
      for (const entry of this.pending.values()) {
        clearTimeout(entry.timer);
        entry.reject(this.closedError);
      }
      this.pending.clear();
    });
  }

  static async connect(socketPath: string, label: string, timeoutMs = 5000): Promise<GuestChannel> {
    try {
      return new GuestChannel(await connectUnixWithRetry(socketPath, timeoutMs), label);
    } catch (cause) {
      throw new SnapvmError(ErrorCode.GuestChannel, `${label}: cannot connect to the guest channel ${socketPath}`, { cause });
    }
  }

  private onLine(line: string): void {
    const reply = parseReply(line);
    if (reply === undefined) return;
    if (reply.kind === "pong" && Number.isInteger(reply.version)) this.peerVersion = reply.version;
    const entry = this.pending.get(reply.id);
    if (entry === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(entry.timer);
    entry.resolve(reply);
  }

  private request(encode: (id: number) => string, timeoutMs: number, what: string): Promise<GuestReply> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SnapvmError(ErrorCode.GuestTimeout, `${this.label}: the guest did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(encode(id));
    });
  }

  async exec(command: string, options: { stdin?: Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    const reply = await this.request((id) => encodeExec(id, command, options.stdin ?? Buffer.alloc(0)), options.timeoutMs ?? 600_000, "a command");
    if (reply.kind !== "result")
      throw new SnapvmError(
        ErrorCode.GuestChannel,
        `${this.label}: the guest agent refused the command (${reply.kind === "error" ? reply.reason : reply.kind})`,
      );
    return { exitCode: reply.exitCode, stdout: reply.stdout, stderr: reply.stderr };
  }

  async syncClock(options: { timeoutMs?: number } = {}): Promise<ClockPrecision> {
    await this.setClock(Math.round(Date.now() / 1000), options);
    return "seconds";
  }

  route(): GuestRoute {
    return "snapvm-agent";
  }

  /** The built-in guest powers off on ACPI at once; its agent has no verb for it. */
  requestShutdown(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** TIME where the agent has it (one fork in the guest), else an EXEC of `date -s`. */
  async setClock(epochSeconds: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const seconds = Math.trunc(epochSeconds);
    const timeoutMs = options.timeoutMs ?? 10_000;
    let exitCode: number;
    if (this.peerVersion >= TIME_VERB_SINCE) {
      const reply = await this.request((id) => encodeTime(id, seconds), timeoutMs, "setting the clock");
      if (reply.kind !== "result")
        throw new SnapvmError(
          ErrorCode.GuestChannel,
          `${this.label}: the guest agent refused to set the clock (${reply.kind === "error" ? reply.reason : reply.kind})`,
        );
      exitCode = reply.exitCode;
    } else {
      exitCode = (await this.exec(`date -u -s @${seconds}`, { timeoutMs })).exitCode;
    }
    if (exitCode !== 0) throw new SnapvmError(ErrorCode.GuestChannel, `${this.label}: setting the guest's clock exited with ${exitCode}`);
  }

  /**
   * Pings until the guest agent answers. A ping written before the agent opened its port may be
   * lost, so one is sent every 250 ms; any answer counts, and the rest are withdrawn. The built-in
   * guest has nothing a first boot makes: `resumed` changes nothing.
   */
  waitReady(timeoutMs: number, _options: WaitReadyOptions = {}): Promise<void> {
    const intervalMs = PING_INTERVAL_MS;
    const deadline = Date.now() + timeoutMs;
    const sent: number[] = [];
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: Error): void => {
        if (done) return;
        done = true;
        clearInterval(timer);
        for (const id of sent) this.withdraw(id);
        if (error === undefined) resolve();
        else reject(error);
      };
      const send = (): void => {
        sent.push(this.nextId);
        this.request(encodePing, Math.max(1, deadline - Date.now()), "a ping").then(
          () => {
            finish();
          },
          (error: unknown) => {
            if (this.closedError !== undefined || Date.now() >= deadline) finish(error instanceof Error ? error : new Error(String(error)));
          },
        );
      };
      const timer = setInterval(() => {
        if (Date.now() + intervalMs < deadline) send();
      }, intervalMs);
      send();
    });
  }

  private withdraw(id: number): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }

  close(): void {
    this.socket.destroy();
  }
}
