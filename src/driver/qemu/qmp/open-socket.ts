import { createConnection, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { isErrno } from "../../../errors/index.ts";
import { connectFailedError, connectTimeoutError } from "./errors.ts";
import { startTimer } from "./timer.ts";

export interface OpenSocketOptions {
  timeoutMs: number;
  /** Retry while the socket file is missing (ENOENT) or nobody listens yet (ECONNREFUSED). */
  waitForSocket: boolean;
  retryIntervalMs: number;
  signal: AbortSignal | undefined;
}

/** Connects to a unix socket; QEMU creates its QMP socket a few ms after it starts, hence the retry. */
export async function openUnixSocket(path: string, options: OpenSocketOptions): Promise<Socket> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: NodeJS.ErrnoException | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(path, deadline - performance.now());
    } catch (error) {
      if (isErrno(error, "ETIMEDOUT")) throw connectTimeoutError(path, options.timeoutMs, lastError);
      if (options.waitForSocket && (isErrno(error, "ENOENT") || isErrno(error, "ECONNREFUSED"))) {
        lastError = error;
      } else {
        throw error instanceof Error ? connectFailedError(path, error) : error;
      }
    }
    const wait = Math.min(options.retryIntervalMs, deadline - performance.now());
    if (wait <= 0) throw connectTimeoutError(path, options.timeoutMs, lastError);
    await sleep(wait, undefined, options.signal === undefined ? {} : { signal: options.signal });
  }
}

/** One connect() within `timeoutMs`; rejects with the socket's errno error, or ETIMEDOUT. */
function attempt(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const settle = (error: Error | undefined): void => {
      cancelTimer();
      socket.off("connect", onConnect);
      socket.off("error", onError);
      if (error === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const onConnect = (): void => {
      settle(undefined);
    };
    const onError = (error: Error): void => {
      settle(error);
    };
    const cancelTimer = startTimer(Math.max(timeoutMs, 0), () => {
      settle(Object.assign(new Error(`connect ETIMEDOUT ${path}`), { code: "ETIMEDOUT" }));
    });
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}
