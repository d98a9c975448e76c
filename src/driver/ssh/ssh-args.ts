import type { SshAccess } from "../../config/launch-spec.ts";

export const SSH_BINARY = "ssh";
export const SSH_HOST = "127.0.0.1";
/** ssh's own exit status for its failures (connection, authentication); a remote command's status otherwise. */
export const SSH_FAILURE_EXIT = 255;

export interface SshArgOptions {
  /** Seconds for the TCP connect and the SSH handshake (OpenSSH applies it to both). */
  connectTimeoutS?: number;
  /** Allocate a terminal (`-t`), for interactive shells. */
  tty?: boolean;
}

/**
 * The ssh client arguments up to and including the destination. The user's ~/.ssh/config is not
 * read (-F /dev/null) and only snapvm's key is offered, so personal settings cannot break snapvm.
 * The host key is not checked: the guest makes new ones at each cold boot (new instance id), and
 * the forward listens on loopback only.
 */
export function sshArgs(access: SshAccess, options: SshArgOptions = {}): string[] {
  return [
    "-F",
    "/dev/null",
    "-i",
    access.keyPath,
    "-p",
    String(access.port),
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    `ConnectTimeout=${options.connectTimeoutS ?? 10}`,
    ...(options.tty === true ? ["-t"] : ["-T"]),
    `${access.user}@${SSH_HOST}`,
  ];
}

/** Arguments to run `command` (shell text for the guest user's login shell) over SSH. */
export function sshCommandArgs(access: SshAccess, command: string, options: SshArgOptions = {}): string[] {
  return [...sshArgs(access, options), "--", command];
}
