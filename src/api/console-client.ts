import WebSocket, { type RawData } from "ws";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { ApiPaths } from "./paths.ts";

/** The agent may still be starting its API when a caller asks (see AgentClient.call). */
const CONSOLE_OPEN_WAIT_MS = 5000;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function openOnce(agentSocket: string, onOutput: (chunk: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix:${agentSocket}:${ApiPaths.console}`, { perMessageDeflate: false });
    // Attached before "open": the scrollback can arrive with the upgrade reply, before a caller's await resumes.
    ws.on("message", (data: RawData) => {
      onOutput(toBuffer(data));
    });
    ws.once("open", () => {
      ws.removeAllListeners("error");
      resolve(ws);
    });
    ws.once("error", reject);
    ws.once("unexpected-response", (_request, response) => {
      ws.removeAllListeners("error");
      ws.on("error", () => undefined); // the abort below reports one more
      ws.terminate();
      reject(new ConsoleNotServed(response.statusCode ?? 0));
    });
  });
}

/** The agent answered the upgrade with an HTTP status: it predates /v1/console, or could not open the console. */
class ConsoleNotServed extends Error {
  constructor(readonly status: number) {
    super(`the agent answered ${status}`);
  }
}

/**
 * A websocket to an agent's /v1/console: `onOutput` gets the console's raw bytes, scrollback first;
 * send() on the socket types into the console. Undefined when the agent answers 404: one started by an
 * older snapvm (no /v1/console, and not QEMU's console client either), or one that could not open it.
 */
export async function openAgentConsole(agentSocket: string, instance: string, onOutput: (chunk: Buffer) => void): Promise<WebSocket | undefined> {
  const deadline = Date.now() + CONSOLE_OPEN_WAIT_MS;
  for (;;) {
    try {
      return await openOnce(agentSocket, onOutput);
    } catch (cause) {
      if (cause instanceof ConsoleNotServed && cause.status === 404) return undefined;
      const code = (cause as NodeJS.ErrnoException).code;
      if (Date.now() < deadline && (code === "ENOENT" || code === "ECONNREFUSED")) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      throw new SnapvmError(ErrorCode.GuestChannel, `instance "${instance}": cannot open its console through the agent`, {
        cause,
        hint: `Check \`snapvm info ${instance}\` and the agent log.`,
      });
    }
  }
}
