import type { Socket } from "node:net";
import { QmpConnection } from "./connection.ts";
import * as errors from "./errors.ts";
import { EventHub, type EventErrors } from "./event-hub.ts";
import { PendingCalls } from "./pending-calls.ts";
import type { QmpGreeting, QmpMessage, QmpStrayReason } from "./protocol.ts";

export interface QmpCloseInfo {
  /** True when `close()` ended the connection, false when QEMU (or the socket) did. */
  byClient: boolean;
  /** The socket error that ended the connection, if any (e.g. ECONNRESET). */
  error: Error | undefined;
}

/**
 * The untyped protocol engine behind QmpClient: waits for the greeting, matches replies to
 * calls by id, fans out events, and on close rejects everything still waiting.
 */
export class QmpSession {
  readonly events = new EventHub();
  readonly eventErrors: EventErrors;
  /** Resolves (never rejects) once the connection is gone. */
  readonly closed: Promise<QmpCloseInfo>;
  /** The first message; rejects if anything else comes first or the socket closes before it. */
  readonly greeting: Promise<QmpGreeting>;
  readonly #socketPath: string;
  readonly #connection: QmpConnection;
  readonly #pending = new PendingCalls();
  readonly #onStray: (line: string, reason: QmpStrayReason) => void;
  #greetingSettle: { resolve: (greeting: QmpGreeting) => void; reject: (error: Error) => void } | undefined;
  #resolveClosed: (info: QmpCloseInfo) => void = () => undefined;
  #closeInfo: QmpCloseInfo | undefined;
  #ending = false;

  constructor(socketPath: string, socket: Socket, onStray: (line: string, reason: QmpStrayReason) => void) {
    this.#socketPath = socketPath;
    this.#onStray = onStray;
    this.eventErrors = {
      timeout: (event, timeoutMs) => errors.eventTimeoutError(socketPath, event, timeoutMs),
      closed: (event) => errors.eventClosedError(socketPath, event, this.#closeInfo?.error),
    };
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.greeting = new Promise((resolve, reject) => {
      this.#greetingSettle = { resolve, reject };
    });
    this.greeting.catch(() => undefined); // connect awaits it; a later close must not be an unhandled rejection
    this.#connection = new QmpConnection(socket, {
      message: (message, line) => {
        this.#onMessage(message, line);
      },
      stray: (line, reason) => {
        this.#onStrayLine(line, reason);
      },
      closed: (error) => {
        this.#onClosed(error);
      },
    });
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** Sends one command; the promise settles with its reply, its timeout, or the close. */
  async call(command: string, args: object | undefined, timeoutMs: number): Promise<unknown> {
    if (this.#closeInfo !== undefined || this.#ending) throw errors.commandClosedError(this.#socketPath, command, this.#closeInfo?.error);
    const { id, promise } = this.#pending.add(command, timeoutMs, () => errors.commandTimeoutError(this.#socketPath, command, timeoutMs));
    this.#connection.send({ execute: command, ...(args === undefined ? {} : { arguments: args }), id });
    return promise;
  }

  /** Flushes writes and closes; new calls are refused from now on. Idempotent. */
  end(): void {
    if (this.#closeInfo !== undefined || this.#ending) return;
    this.#ending = true;
    this.#connection.end();
  }

  destroy(): void {
    this.#connection.destroy();
  }

  #onMessage(message: QmpMessage, line: string): void {
    if (this.#greetingSettle !== undefined) {
      if (message.kind === "greeting") this.#greetingSettle.resolve(message.greeting);
      else this.#failGreeting(line);
      this.#greetingSettle = undefined;
      return;
    }
    switch (message.kind) {
      case "greeting":
        this.#onStray(line, "unknown-shape");
        return;
      case "return":
        if (!this.#pending.resolve(message.id, message.value)) this.#onStray(line, "unknown-id");
        return;
      case "error": {
        const { errorClass, desc } = message;
        const matched = this.#pending.reject(message.id, (command) => errors.commandFailedError(this.#socketPath, command, errorClass, desc));
        if (!matched) this.#onStray(line, "unknown-id");
        return;
      }
      case "event":
        this.events.emit(message.event);
        return;
    }
  }

  #onStrayLine(line: string, reason: QmpStrayReason): void {
    if (this.#greetingSettle === undefined) this.#onStray(line, reason);
    else this.#failGreeting(line);
  }

  /** Anything but a greeting first means this is not a QMP monitor: fail connect, drop the socket. */
  #failGreeting(line: string): void {
    this.#greetingSettle?.reject(errors.badGreetingError(this.#socketPath, line));
    this.#greetingSettle = undefined;
    this.#connection.destroy();
  }

  #onClosed(error: Error | undefined): void {
    const info: QmpCloseInfo = { byClient: this.#ending, error };
    this.#closeInfo = info;
    this.#greetingSettle?.reject(errors.greetingClosedError(this.#socketPath, error));
    this.#greetingSettle = undefined;
    this.#pending.rejectAll((command) => errors.commandClosedError(this.#socketPath, command, error));
    this.events.close();
    this.#resolveClosed(info);
  }
}
