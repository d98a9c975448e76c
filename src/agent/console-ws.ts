import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData } from "ws";
import { ApiPaths } from "../api/paths.ts";
import { connectUnixWithRetry } from "../util/connect-unix.ts";
import { ConsoleHub } from "./console-hub.ts";
import type { Logger } from "./logger.ts";

/** How long a viewer gets to answer the close once the console has closed. */
const VIEWER_CLOSE_GRACE_MS = 1000;

/** QEMU made the socket before it reported up; the wait only covers a slow accept. */
const CONSOLE_CONNECT_MS = 2000;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * GET /v1/console upgraded to a websocket on agent.sock: binary frames both ways carry the console's
 * raw bytes; the first frames are the scrollback. The socket is the owner's only (0600), so no token.
 */
export function serveConsole(server: Server, hub: ConsoleHub): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? "/", "http://agent").pathname !== ApiPaths.console) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const detach = hub.attach({
        write: (chunk) => {
          ws.send(chunk, { binary: true });
        },
        close: () => {
          ws.close(1000, "console closed");
          // The agent exits once QEMU has: a viewer that does not answer the close must not hold it up.
          setTimeout(() => {
            ws.terminate();
          }, VIEWER_CLOSE_GRACE_MS).unref();
        },
      });
      ws.on("message", (data) => {
        hub.input(toBuffer(data));
      });
      ws.on("close", detach);
      ws.on("error", detach);
    });
  });
  server.on("close", () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  });
}

/**
 * Becomes the console's one client and serves it on /v1/console. A console that cannot be opened is
 * logged, not fatal: the VM and the rest of the API work without it.
 */
export async function attachConsoleHub(server: Server, consoleSocket: string, log: Logger): Promise<void> {
  try {
    serveConsole(server, new ConsoleHub(await connectUnixWithRetry(consoleSocket, CONSOLE_CONNECT_MS)));
  } catch (error) {
    log.warn({ err: error }, "cannot open the serial console; /v1/console is unavailable");
  }
}
