import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer, type RawData } from "ws";
import { openAgentConsole } from "../api/console-client.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../errors/index.ts";
import { refuseUpgrade } from "./auth.ts";

/** /api/instances/NAME/console */
const CONSOLE_PATH = /^\/api\/instances\/([^/]+)\/console$/;

export interface ConsoleProxyOptions {
  token: string;
  port: number;
  agentSocket: (name: string) => string;
}

function reject(socket: Duplex, status: number, reason: string): void {
  const text = status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Not Found";
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
}

/**
 * Browser websocket ⇄ the instance agent's /v1/console: one agent connection per browser tab, so the
 * agent's fan-out serves every tab and `snapvm shell` at once. When the agent cannot be reached the tab
 * gets a text frame with the error's code and message, then a close.
 */
export function consoleUpgradeHandler(options: ConsoleProxyOptions): {
  upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Ends every browser connection (and through it, its agent connection). */
  close: () => void;
} {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const close = (): void => {
    for (const client of wss.clients) client.terminate();
  };
  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const match = CONSOLE_PATH.exec(new URL(request.url ?? "/", "http://dashboard").pathname);
    if (match?.[1] === undefined) {
      reject(socket, 404, "no websocket here");
      return;
    }
    const refusal = refuseUpgrade(request, options.token, options.port);
    if (refusal !== undefined) {
      reject(socket, refusal.status, refusal.reason);
      return;
    }
    const name = decodeURIComponent(match[1]);
    wss.handleUpgrade(request, socket, head, (browser) => {
      const pending: Buffer[] = [];
      const fromBrowser = (data: RawData): void => {
        pending.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
      };
      browser.on("message", fromBrowser);
      void connect(name, options, browser, pending, fromBrowser);
    });
  };
  return { upgrade, close };
}

async function connect(name: string, options: ConsoleProxyOptions, browser: WebSocket, pending: Buffer[], buffering: (data: RawData) => void): Promise<void> {
  let agent: WebSocket | undefined;
  try {
    agent = await openAgentConsole(options.agentSocket(name), name, (chunk) => {
      browser.send(chunk, { binary: true });
    });
    if (agent === undefined) {
      throw new SnapvmError(ErrorCode.NotSupported, `instance "${name}": its agent does not serve the console to several viewers`, {
        hint: `It was started by an older snapvm, or could not open the console (see its agent log); \`snapvm restart ${name}\` updates it.`,
      });
    }
  } catch (error) {
    const body = isSnapvmError(error) ? error.toJSON() : { code: "E_INTERNAL", message: String(error) };
    browser.send(JSON.stringify({ error: body }));
    browser.close(1011, "console unavailable");
    return;
  }
  if (browser.readyState !== WebSocket.OPEN) {
    agent.close();
    return;
  }
  browser.off("message", buffering);
  for (const chunk of pending) agent.send(chunk);
  browser.on("message", (data: RawData, isBinary: boolean) => {
    agent.send(data, { binary: isBinary });
  });
  agent.on("close", () => {
    browser.close(1000, "console closed");
  });
  browser.on("close", () => {
    agent.close();
  });
  agent.on("error", () => {
    browser.terminate();
  });
  browser.on("error", () => {
    agent.terminate();
  });
}
