import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { buildUiApp } from "./app.ts";
import { consoleUpgradeHandler } from "./console-proxy.ts";
import type { ListenAddress } from "./listen-address.ts";
import type { UiOperations } from "./operations.ts";
import { TOKEN_QUERY } from "./auth.ts";

export interface UiServer {
  /** The URL to open: it carries the token. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface UiServerOptions {
  listen: ListenAddress;
  token: string;
  operations: UiOperations;
  assetsDir: string;
  onUnexpected: (error: unknown) => void;
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Serves the dashboard until close(); the port is known only once listening (port 0 picks one). */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  // The app and the websocket check need the port (the cookie's name): with port 0 it is known only after listen.
  let handle = (_request: Request): Response | Promise<Response> => new Response("starting", { status: 503 });
  const server = createAdaptorServer({ fetch: (request: Request) => handle(request) }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const app = buildUiApp({ token: options.token, port, operations: options.operations, assetsDir: options.assetsDir }, options.onUnexpected);
  handle = (request) => app.fetch(request);
  const consoles = consoleUpgradeHandler({ token: options.token, port, agentSocket: options.operations.agentSocket });
  server.on("upgrade", consoles.upgrade);
  return {
    url: `http://${urlHost(options.listen.host)}:${port}/?${TOKEN_QUERY}=${options.token}`,
    host: options.listen.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        consoles.close();
        server.closeAllConnections();
      }),
  };
}
