import { webAssetsDir } from "../paths/index.ts";
import { DEFAULT_LISTEN, parseListen } from "./listen-address.ts";
import { openBrowser } from "./open-browser.ts";
import { libraryOperations } from "./operations.ts";
import { startUiServer, type UiServer } from "./server.ts";
import { newToken } from "./token.ts";

export interface DashboardOptions {
  listen?: string;
  allowRemote?: boolean;
  open?: boolean;
  onUnexpected: (error: unknown) => void;
}

export interface Dashboard {
  server: UiServer;
  loopback: boolean;
  /** Set with --open: whether a browser was asked to open the URL. */
  opened?: boolean;
}

/** `snapvm ui`: a fresh token, the server on loopback unless told otherwise, the browser if asked. */
export async function runDashboard(options: DashboardOptions): Promise<Dashboard> {
  const listen = parseListen(options.listen ?? DEFAULT_LISTEN, options.allowRemote === true);
  const server = await startUiServer({
    listen,
    token: newToken(),
    operations: libraryOperations,
    assetsDir: webAssetsDir(),
    onUnexpected: options.onUnexpected,
  });
  if (options.open !== true) return { server, loopback: listen.loopback };
  return { server, loopback: listen.loopback, opened: await openBrowser(server.url) };
}
