/** The SSH user's passwd entry in the guest: what a command through the agent runs as. */
export interface GuestAccount {
  user: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** The entry for `user` in /etc/passwd's text; undefined when there is none (cloud-init has not made it yet). */
export function parsePasswdEntry(passwd: string, user: string): GuestAccount | undefined {
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 7 || fields[0] !== user) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || fields[2] === "" || fields[3] === "") return undefined;
    return { user, uid, gid, home: fields[5] || "/", shell: fields[6] || "/bin/sh" };
  }
  return undefined;
}

/**
 * PATH for commands through the agent: what qemu-guest-agent's systemd service has, which `runuser -u`
 * passed on unchanged (Debian's login.defs does not set ALWAYS_SET_PATH).
 */
export const AGENT_EXEC_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface ExecArgv {
  path: string;
  args: string[];
  /** The whole environment of the command (guest-exec's `env` replaces the agent's); none: inherit it. */
  env?: string[];
}

/** `cd` alone goes to the user's home, where SSH would start. */
function shellArgs(command: string): string[] {
  return ["sh", "-c", `cd || exit 1\n${command}`];
}

/**
 * `setpriv` (util-linux; no PAM, whose modules runuser loads on every command) to the account's
 * uid, gid and groups, with the environment SSH gives a command: HOME, USER, LOGNAME, SHELL, PATH.
 */
export function setprivArgv(account: GuestAccount, command: string): ExecArgv {
  return {
    path: "setpriv",
    args: [`--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups", "--", ...shellArgs(command)],
    env: [`HOME=${account.home}`, `USER=${account.user}`, `LOGNAME=${account.user}`, `SHELL=${account.shell}`, `PATH=${AGENT_EXEC_PATH}`],
  };
}

/** The fallback where setpriv is missing: runuser sets HOME, SHELL, USER and LOGNAME itself (through PAM). */
export function runuserArgv(user: string, command: string): ExecArgv {
  return { path: "runuser", args: ["-u", user, "--", ...shellArgs(command)] };
}
