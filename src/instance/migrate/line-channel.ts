import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/** The longest line either side accepts: an offer carries a launch and a config, far below this. */
const MAX_LINE = 4 * 2 ** 20;

/** A line the peer sends only to say it is alive; never handed to `next`. */
export const HEARTBEAT = "ping";

export interface LineChannelOptions {
  /**
   * End the channel when nothing (heartbeats included) arrived for this long: a cut link leaves a TCP
   * connection (and so ssh's pipe) open for hours, and the peer's silence is the only sign.
   */
  silenceMs?: number;
}

/**
 * One JSON object per line each way (the migration's control channel over ssh). `next` hands lines
 * over in order; once the input ends, every pending and later `next` rejects with `closedError`.
 */
export class LineChannel<In extends { kind: string }, Out> {
  private readonly queue: In[] = [];
  private readonly waiters: { resolve: (value: In) => void; reject: (error: Error) => void }[] = [];
  private ended: Error | undefined;
  readonly closed: Promise<void>;

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly what: string,
    options: LineChannelOptions = {},
  ) {
    const lines = createInterface({ input, crlfDelay: Infinity });
    let heard = Date.now();
    const silenceMs = options.silenceMs;
    const watchdog =
      silenceMs === undefined
        ? undefined
        : setInterval(
            () => {
              if (Date.now() - heard <= silenceMs) return;
              this.end(new SnapvmError(ErrorCode.MigrationFailed, `${what} fell silent for ${silenceMs / 1000} s`));
              lines.close();
            },
            Math.min(1000, silenceMs),
          ).unref();
    this.closed = new Promise((resolve) => {
      lines.on("close", () => {
        clearInterval(watchdog);
        this.end(new SnapvmError(ErrorCode.MigrationFailed, `${what} closed the connection`));
        resolve();
      });
    });
    lines.on("line", (line) => {
      heard = Date.now();
      if (line.trim() === "") return;
      let message: In;
      try {
        if (line.length > MAX_LINE) throw new Error(`a line of ${line.length} bytes`);
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== "object" || parsed === null || typeof (parsed as { kind?: unknown }).kind !== "string") throw new Error("not a message");
        if ((parsed as { kind: string }).kind === HEARTBEAT) return;
        message = parsed as In;
      } catch (error) {
        this.end(
          new SnapvmError(
            ErrorCode.MigrationFailed,
            `${what} sent something that is not a migration message: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
        lines.close();
        return;
      }
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter.resolve(message);
      else this.queue.push(message);
    });
  }

  private end(error: Error): void {
    this.ended ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.ended);
  }

  /** Tells the peer this side is alive (see LineChannelOptions.silenceMs). */
  heartbeat(): void {
    if (!this.output.writableEnded && !this.output.destroyed) this.output.write(`${JSON.stringify({ kind: HEARTBEAT })}\n`);
  }

  send(message: Out): void {
    if (!this.output.writableEnded && !this.output.destroyed) this.output.write(`${JSON.stringify(message)}\n`);
  }

  next(): Promise<In> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The next message, which must be of `kind`; a `failed` report from the other side is thrown as its error. */
  async expect<K extends In["kind"]>(kind: K): Promise<Extract<In, { kind: K }>> {
    const message = await this.next();
    if (message.kind === kind) return message as Extract<In, { kind: K }>;
    const failure = (message as { error?: { code?: string; message?: string; hint?: string } }).error;
    if (message.kind === "failed" && failure !== undefined)
      throw new SnapvmError((failure.code ?? ErrorCode.MigrationFailed) as ErrorCode, failure.message ?? `${this.what} failed`, {
        ...(failure.hint === undefined ? {} : { hint: failure.hint }),
      });
    throw new SnapvmError(ErrorCode.MigrationFailed, `${this.what} sent "${message.kind}" where "${kind}" was expected`);
  }

  close(): void {
    this.output.end();
  }
}
