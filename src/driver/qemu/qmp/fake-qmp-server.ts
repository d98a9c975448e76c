import { createServer, type Server, type Socket } from "node:net";
import { LineDecoder } from "./framing.ts";

/** Test-only stand-in for QEMU's QMP socket; tests script each reply and event by hand. */

export const QEMU_10_GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"}, "capabilities": ["oob"]}}';

export interface FakeCommand {
  execute: string;
  arguments: unknown;
  id: unknown;
}

export interface FakeQmpServerOptions {
  /** Raw first line, sent on connect; null sends nothing. Default: QEMU 10.0.2's greeting. */
  greeting?: string | null;
  /** Reply `{}` to qmp_capabilities without queueing it. Default true. */
  answerCapabilities?: boolean;
}

export class FakeQmpServer {
  /** Every command received, in order, including auto-answered ones. */
  readonly received: FakeCommand[] = [];
  readonly #server: Server;
  readonly #options: FakeQmpServerOptions;
  readonly #queue: FakeCommand[] = [];
  readonly #waiters: ((command: FakeCommand) => void)[] = [];
  #client: Socket | undefined;
  readonly #clientWaiters: (() => void)[] = [];

  static async listen(path: string, options: FakeQmpServerOptions = {}): Promise<FakeQmpServer> {
    const fake = new FakeQmpServer(options);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once("error", reject);
      fake.#server.listen(path, () => {
        fake.#server.off("error", reject);
        resolve();
      });
    });
    return fake;
  }

  private constructor(options: FakeQmpServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => {
      this.#accept(socket);
    });
  }

  /** Resolves with the next command not yet taken (auto-answered qmp_capabilities excluded). */
  nextCommand(): Promise<FakeCommand> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Resolves once a client is connected. */
  connected(): Promise<void> {
    if (this.#client !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#clientWaiters.push(resolve);
    });
  }

  reply(command: FakeCommand, value: unknown): void {
    this.sendJson({ return: value, id: command.id });
  }

  replyError(command: FakeCommand, errorClass: string, desc: string): void {
    this.sendJson({ error: { class: errorClass, desc }, id: command.id });
  }

  sendEvent(event: string, data?: Record<string, unknown>): void {
    this.sendJson({ timestamp: { seconds: 1700000000, microseconds: 42 }, event, ...(data === undefined ? {} : { data }) });
  }

  /** QEMU ends each message with CRLF; so does the fake. */
  sendJson(message: unknown): void {
    this.sendRaw(`${JSON.stringify(message)}\r\n`);
  }

  sendRaw(text: string | Buffer): void {
    if (this.#client === undefined) throw new Error("fake QMP server: no client connected");
    this.#client.write(text);
  }

  /** Drops the client as an exiting QEMU would. */
  dropClient(): void {
    this.#client?.destroy();
  }

  async close(): Promise<void> {
    this.#client?.destroy();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }

  #accept(socket: Socket): void {
    this.#client = socket;
    socket.on("error", () => undefined); // the client may vanish; tests look at what the client saw
    socket.on("close", () => {
      if (this.#client === socket) this.#client = undefined;
    });
    const decoder = new LineDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) this.#onCommand(JSON.parse(line) as FakeCommand);
    });
    const greeting = this.#options.greeting === undefined ? QEMU_10_GREETING : this.#options.greeting;
    if (greeting !== null) socket.write(`${greeting}\r\n`);
    for (const resolve of this.#clientWaiters.splice(0)) resolve();
  }

  #onCommand(command: FakeCommand): void {
    this.received.push(command);
    if (command.execute === "qmp_capabilities" && this.#options.answerCapabilities !== false) {
      this.reply(command, {});
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#queue.push(command);
    else waiter(command);
  }
}
