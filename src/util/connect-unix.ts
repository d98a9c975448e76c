import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Retried while the server has not created or opened its socket yet; anything else fails at once. */
const RETRIABLE = new Set(["ENOENT", "ECONNREFUSED", "EAGAIN"]);

export class ConnectTimeoutError extends Error {
  override readonly name = "ConnectTimeoutError";
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Connects to a unix socket, retrying every `intervalMs` until `timeoutMs` has passed. */
export async function connectUnixWithRetry(path: string, timeoutMs: number, intervalMs = 10): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connectOnce(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (!RETRIABLE.has(code)) throw error;
      if (Date.now() >= deadline) throw new ConnectTimeoutError(`${path}: not accepting connections after ${timeoutMs} ms (${code})`, { cause: error });
      await sleep(intervalMs);
    }
  }
}
