import type { Socket } from "node:net";
import { LineDecoder } from "./framing.ts";
import { parseQmpLine, type QmpMessage, type QmpStrayReason } from "./protocol.ts";

export interface ConnectionHandlers {
  message: (message: QmpMessage, line: string) => void;
  /** A line that is not a QMP message; it is dropped, never fatal. */
  stray: (line: string, reason: QmpStrayReason) => void;
  /** Called once, after the last message; `error` is the socket error that ended it, if any. */
  closed: (error: Error | undefined) => void;
}

/** A connected QMP socket as a stream of parsed messages, plus writing and ending it. */
export class QmpConnection {
  readonly #socket: Socket;
  readonly #handlers: ConnectionHandlers;
  readonly #decoder: LineDecoder;
  #error: Error | undefined;

  constructor(socket: Socket, handlers: ConnectionHandlers) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#decoder = new LineDecoder({
      onProblem: (problem, preview) => {
        handlers.stray(preview, problem);
      },
    });
    socket.on("data", (chunk: Buffer) => {
      this.#deliver(this.#decoder.push(chunk));
    });
    // ECONNRESET/EPIPE when QEMU exits mid-conversation; "close" always follows.
    socket.on("error", (error) => {
      this.#error ??= error;
    });
    socket.on("close", () => {
      this.#deliver(this.#decoder.end());
      handlers.closed(this.#error);
    });
  }

  /** Writes one message as one line; a failed write surfaces as the connection closing. */
  send(message: Record<string, unknown>): void {
    this.#socket.write(`${JSON.stringify(message)}\n`);
  }

  /** Flushes what was written, then closes; `closed` is called when the socket is gone. */
  end(): void {
    this.#socket.end(() => {
      this.#socket.destroy();
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #deliver(lines: string[]): void {
    for (const line of lines) {
      const parsed = parseQmpLine(line);
      if (typeof parsed === "string") this.#handlers.stray(line, parsed);
      else this.#handlers.message(parsed, line);
    }
  }
}
