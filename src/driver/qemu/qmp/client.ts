import type { QmpCommandName, QmpExecuteRest, QmpReturns } from "./command-map.ts";
import { handshakeTimeoutError } from "./errors.ts";
import type { WaitForEventOptions } from "./event-hub.ts";
import { isQmpEvent, type QmpEvent, type QmpEventName } from "./event-map.ts";
import { openUnixSocket } from "./open-socket.ts";
import type { QemuVersion, QmpEventMessage, QmpStrayReason } from "./protocol.ts";
import { QmpSession, type QmpCloseInfo } from "./session.ts";
import { withTimeout } from "./timer.ts";

export interface QmpConnectOptions {
  /** Budget for the whole connect: waiting for the socket, the greeting and qmp_capabilities. Default 10 s. */
  timeoutMs?: number;
  /** Retry while the socket does not exist yet or refuses connections (QEMU just spawned). Default false. */
  waitForSocket?: boolean;
  /** Pause between connect attempts. Default 20 ms. */
  retryIntervalMs?: number;
  /** Default timeout of `execute` and `waitForEvent`. Default 30 s. */
  commandTimeoutMs?: number;
  /** Aborts waiting for the socket (e.g. when the QEMU process exits first). */
  signal?: AbortSignal;
  /** Sees each line that was dropped (not JSON, unknown shape, late reply); for logs. */
  onStray?: (line: string, reason: QmpStrayReason) => void;
}

/**
 * A typed QMP connection to one QEMU. Commands are matched to replies by id, so any number
 * may be in flight, each with a timeout. When the connection ends, every pending call and
 * event waiter rejects with E_QMP_CLOSED.
 */
export class QmpClient {
  readonly socketPath: string;
  /** From the greeting. */
  readonly qemuVersion: QemuVersion;
  /** Resolves (never rejects) once the connection is gone. */
  readonly closed: Promise<QmpCloseInfo>;
  readonly #session: QmpSession;
  readonly #commandTimeoutMs: number;

  /**
   * Connects, reads the greeting and leaves capabilities negotiation. Rejects with
   * E_QMP_TIMEOUT (budget spent), E_QMP_CLOSED (cannot connect, or closed early) or E_QMP
   * (not a QMP monitor, or qmp_capabilities failed).
   */
  static async connect(socketPath: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const started = performance.now();
    const socket = await openUnixSocket(socketPath, {
      timeoutMs,
      waitForSocket: options.waitForSocket ?? false,
      retryIntervalMs: options.retryIntervalMs ?? 20,
      signal: options.signal,
    });
    const session = new QmpSession(socketPath, socket, options.onStray ?? (() => undefined));
    const handshake = session.greeting.then(async (greeting) => {
      await session.call("qmp_capabilities", {}, Number.POSITIVE_INFINITY);
      return greeting;
    });
    try {
      const remaining = Math.max(0, timeoutMs - (performance.now() - started));
      const greeting = await withTimeout(handshake, remaining, () => handshakeTimeoutError(socketPath, timeoutMs));
      return new QmpClient(socketPath, session, greeting.version, options.commandTimeoutMs ?? 30_000);
    } catch (error) {
      handshake.catch(() => undefined); // rejects with E_QMP_CLOSED once destroyed; `error` says why
      session.destroy();
      await session.closed;
      throw error;
    }
  }

  private constructor(socketPath: string, session: QmpSession, qemuVersion: QemuVersion, commandTimeoutMs: number) {
    this.socketPath = socketPath;
    this.qemuVersion = qemuVersion;
    this.closed = session.closed;
    this.#session = session;
    this.#commandTimeoutMs = commandTimeoutMs;
  }

  get isClosed(): boolean {
    return this.#session.isClosed;
  }

  /** Runs one command; rejects with E_QMP (QEMU's error reply), E_QMP_TIMEOUT or E_QMP_CLOSED. */
  async execute<C extends QmpCommandName>(command: C, ...rest: QmpExecuteRest<C>): Promise<QmpReturns<C>> {
    const [args, options] = rest;
    const value = await this.#session.call(command, args, options?.timeoutMs ?? this.#commandTimeoutMs);
    // Trusted: QEMU's reply matches its schema, which QmpCommandMap transcribes.
    return value as QmpReturns<C>;
  }

  /** Calls `listener` for every event (or every event named `name`) in arrival order; returns the unsubscribe. */
  onEvent(listener: (event: QmpEventMessage) => void): () => void;
  onEvent<N extends QmpEventName>(name: N, listener: (event: QmpEvent<N>) => void): () => void;
  onEvent<N extends QmpEventName>(nameOrListener: N | ((event: QmpEventMessage) => void), listener?: (event: QmpEvent<N>) => void): () => void {
    if (typeof nameOrListener === "function") return this.#session.events.on(nameOrListener);
    return this.#session.events.on((event) => {
      if (isQmpEvent(event, nameOrListener)) listener?.(event);
    });
  }

  /**
   * Resolves with the first `name` event (passing `predicate`) that arrives after this call, so
   * start it before the command that causes the event. Rejects with E_QMP_TIMEOUT,
   * E_QMP_CLOSED or the signal's reason.
   */
  waitForEvent<N extends QmpEventName>(name: N, options: WaitForEventOptions<N> = {}): Promise<QmpEvent<N>> {
    return this.#session.events.wait(name, options, options.timeoutMs ?? this.#commandTimeoutMs, this.#session.eventErrors);
  }

  /** Calls `listener` once the connection is gone (soon, if it already is); returns the unsubscribe. */
  onClose(listener: (info: QmpCloseInfo) => void): () => void {
    let active = true;
    void this.closed.then((info) => {
      if (active) listener(info);
    });
    return () => {
      active = false;
    };
  }

  /** Flushes writes and closes; pending calls reject with E_QMP_CLOSED. Idempotent. */
  async close(): Promise<void> {
    this.#session.end();
    await this.closed;
  }
}
