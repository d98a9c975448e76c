import { randomInt } from "node:crypto";
import type { Socket } from "node:net";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { connectUnixWithRetry } from "../../util/connect-unix.ts";
import { QgaFraming, SYNC_DELIMITER, type QgaLine } from "./framing.ts";

interface InFlight {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface SyncWait {
  id: number;
  resolve: () => void;
}

export interface QgaCallOptions {
  timeoutMs?: number;
  /** The command answers nothing when it succeeds (guest-shutdown): resolve once it is written. */
  noReply?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A client for qemu-guest-agent on its virtio-serial channel: JSON commands, one per line, answered
 * in order, one at a time. It looks like QMP but is not: no greeting, no capabilities, no events, and
 * replies carry no id, so a reply that comes after its command timed out would be taken for the next
 * one's. Hence every call after a timeout (and the first) resynchronizes with `guest-sync-delimited`
 * (a 0xFF, which resets the agent's parser, then a random id the agent echoes after a 0xFF of its
 * own): the agent answers in order, so once the id is back every older reply has been read and dropped.
 * Calls are queued; the channel closing (QEMU gone, the guest agent's port reset) rejects every
 * pending and later call with E_GUEST_CHANNEL.
 */
export class QgaClient {
  private inFlight: InFlight | undefined;
  private syncWait: SyncWait | undefined;
  private synced = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closedError: SnapvmError | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly label: string,
  ) {
    const framing = new QgaFraming((line) => {
      this.onLine(line);
    });
    socket.on("data", (chunk: Buffer) => {
      framing.push(chunk);
    });
    socket.on("error", () => undefined); // "close" follows and rejects what is pending
    socket.on("close", () => {
      this.closedError = new SnapvmError(ErrorCode.GuestChannel, `${label}: the qemu-guest-agent channel closed`);
      this.inFlight?.reject(this.closedError);
      this.inFlight = undefined;
    });
  }

  static async connect(socketPath: string, label: string, timeoutMs = 5000): Promise<QgaClient> {
    try {
      return new QgaClient(await connectUnixWithRetry(socketPath, timeoutMs), label);
    } catch (cause) {
      throw new SnapvmError(ErrorCode.GuestChannel, `${label}: cannot connect to the qemu-guest-agent channel ${socketPath}`, { cause });
    }
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  private onLine(line: QgaLine): void {
    if (line.delimited) {
      const wait = this.syncWait;
      if (wait !== undefined && parseReply(line.text)?.value === wait.id) {
        this.syncWait = undefined;
        wait.resolve();
      }
      return; // a reply to an older sync
    }
    const current = this.inFlight;
    if (current === undefined || !this.synced) return; // a reply whose caller gave up
    this.inFlight = undefined;
    const reply = parseReply(line.text);
    if (reply === undefined) {
      current.reject(
        new SnapvmError(ErrorCode.GuestChannel, `${this.label}: qemu-guest-agent answered ${current.command} with ${JSON.stringify(line.text.slice(0, 200))}`),
      );
    } else if (reply.error !== undefined) {
      current.reject(
        new SnapvmError(ErrorCode.GuestChannel, `${this.label}: qemu-guest-agent refused ${current.command}: ${reply.error}`, {
          details: { refusedCommand: current.command },
        }),
      );
    } else current.resolve(reply.value);
  }

  /**
   * Sends `command` and resolves with its `return` value. Rejects with E_GUEST_TIMEOUT when no reply
   * came within `timeoutMs` (the next call resynchronizes first), E_GUEST_CHANNEL when the agent
   * refused it or the channel closed.
   */
  execute(command: string, args?: Record<string, unknown>, options: QgaCallOptions = {}): Promise<unknown> {
    const run = this.queue.then(() => this.run(command, args, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Resynchronizes within `timeoutMs`, sending a new sync every `retryMs`: a sync written before the
   * guest agent opened its port waits in QEMU until it does, and the newest id is the one awaited.
   * Resolves once the agent answered, i.e. it runs and reads this channel.
   */
  sync(timeoutMs: number, retryMs = 1000): Promise<void> {
    const run = this.queue.then(() => this.resync(timeoutMs, retryMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(command: string, args: Record<string, unknown> | undefined, options: QgaCallOptions): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    if (!this.synced) await this.resync(timeoutMs, timeoutMs);
    const request = `${JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args })}\n`;
    if (options.noReply === true) {
      await this.write(request);
      return undefined;
    }
    return this.withTimeout(
      new Promise<unknown>((resolve, reject) => {
        this.inFlight = { command, resolve, reject };
        this.write(request).catch(reject);
      }),
      Math.max(1, deadline - Date.now()),
      command,
      timeoutMs,
    );
  }

  private async resync(timeoutMs: number, retryMs: number): Promise<void> {
    this.synced = false;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkOpen();
      const id = randomInt(1, 2 ** 31);
      const answered = new Promise<void>((resolve) => {
        this.syncWait = { id, resolve };
      });
      await this.write(
        Buffer.concat([Buffer.from([SYNC_DELIMITER]), Buffer.from(`${JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } })}\n`)]),
      );
      const left = deadline - Date.now();
      try {
        await this.withTimeout(answered, Math.max(1, Math.min(retryMs, left)), "guest-sync-delimited");
        this.synced = true;
        return;
      } catch (error) {
        this.syncWait = undefined;
        if (Date.now() >= deadline || this.closed) throw error;
      }
    }
  }

  /** Rejects with E_GUEST_TIMEOUT after `ms`, or with the channel's end; the next call resynchronizes. */
  private withTimeout<T>(promise: Promise<T>, ms: number, command: string, statedMs = ms): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.inFlight = undefined;
        this.synced = false;
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new SnapvmError(ErrorCode.GuestTimeout, `${this.label}: qemu-guest-agent did not answer ${command} within ${statedMs} ms`));
      }, ms);
      const onClose = (): void => {
        fail(this.closedError ?? new SnapvmError(ErrorCode.GuestChannel, `${this.label}: the qemu-guest-agent channel closed`));
      };
      this.socket.once("close", onClose);
      promise.then(
        (value) => {
          clearTimeout(timer);
          this.socket.off("close", onClose);
          resolve(value);
        },
        (error: unknown) => {
          this.socket.off("close", onClose);
          fail(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private write(data: string | Buffer): Promise<void> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => {
        if (error === undefined || error === null) resolve();
        else reject(new SnapvmError(ErrorCode.GuestChannel, `${this.label}: writing to the qemu-guest-agent channel failed`, { cause: error }));
      });
    });
  }

  private checkOpen(): void {
    if (this.closedError !== undefined) throw this.closedError;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `{"return": V}` or `{"error": {"class", "desc"}}`; undefined for anything else. */
function parseReply(text: string): { value?: unknown; error?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  if ("return" in parsed) return { value: parsed.return };
  if ("error" in parsed && typeof parsed.error === "object" && parsed.error !== null) {
    const error = parsed.error as { class?: unknown; desc?: unknown };
    return { error: `${typeof error.desc === "string" ? error.desc : "unknown error"}${typeof error.class === "string" ? ` (${error.class})` : ""}` };
  }
  return undefined;
}
