import type { MigrationDest } from "../../paths/index.ts";
import { shellQuote } from "../../util/shell-quote.ts";

/**
 * How snapvm reaches the other host: the system ssh client, with `-F $SNAPVM_SSH_CONFIG` when set
 * (scripts/test-hosts.sh sets it), batch mode (no password prompt can hang a migration).
 */
export function sshArgs(dest: MigrationDest, options: readonly string[] = []): string[] {
  const config = process.env["SNAPVM_SSH_CONFIG"];
  const host = dest.host.startsWith("[") ? dest.host.slice(1, -1) : dest.host;
  return [
    ...(config === undefined || config === "" ? [] : ["-F", config]),
    "-o",
    "BatchMode=yes",
    // A cut link ends this side's ssh within ~6 s (its forwards close, so QEMU's migration fails and the
    // guest runs on here); TCP alone would keep a dead connection for hours.
    "-o",
    "ServerAliveInterval=2",
    "-o",
    "ServerAliveCountMax=3",
    ...(dest.port === undefined ? [] : ["-p", String(dest.port)]),
    ...options,
    "--",
    dest.user === undefined ? host : `${dest.user}@${host}`,
  ];
}

/**
 * The command line ssh runs on the other host: snapvm found on its PATH, or SNAPVM_REMOTE_COMMAND (a
 * shell command prefix, e.g. `node /opt/snapvm/dist/bin/snapvm.js`), with SNAPVM_HOME set when DEST
 * names one. The parts from DEST are plain by construction (parseMigrationDest).
 */
export function remoteSnapvm(dest: MigrationDest, args: readonly string[]): string {
  const command = process.env["SNAPVM_REMOTE_COMMAND"] ?? "snapvm";
  return `${dest.home === undefined ? "" : `SNAPVM_HOME=${dest.home} `}${command} ${shellQuote(args)}`;
}
