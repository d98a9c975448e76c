import { once } from "node:events";
import { runDashboard } from "../ui/run-dashboard.ts";
import { notice, printResult } from "./output.ts";

export interface UiFlags {
  listen?: string;
  allowRemote?: true;
  open?: true;
  json?: true;
}

/** Serves the dashboard until SIGINT or SIGTERM; prints its URL (with the token) once it listens. */
export async function uiCommand(flags: UiFlags): Promise<void> {
  const dashboard = await runDashboard({
    ...(flags.listen === undefined ? {} : { listen: flags.listen }),
    allowRemote: flags.allowRemote === true,
    open: flags.open === true,
    onUnexpected: (error) => {
      notice(`snapvm ui: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    },
  });
  const { url, host, port } = dashboard.server;
  printResult(
    { url, host, port, ...(dashboard.opened === undefined ? {} : { opened: dashboard.opened }) },
    flags.json === true,
    (r) => `snapvm dashboard: ${r.url}`,
  );
  if (!dashboard.loopback) notice(`warning: serving on ${host}, which is not loopback: anyone who can reach it and has the URL controls your VMs`);
  if (dashboard.opened === false) notice("could not open a browser (no xdg-open?); open the URL above");
  notice("Ctrl-C stops the dashboard (VMs keep running)");
  await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
  await dashboard.server.close();
}
