import { ErrorCode, SnapvmError } from "../errors/index.ts";

/**
 * Another host a running instance can move to, as libvirt users write it:
 * `ssh://[USER@]HOST[:PORT][/PATH-TO-SNAPVM-HOME]`. Only parseMigrationDest makes one, so every part is
 * safe to pass to ssh as an argument and to a remote shell unquoted.
 */
export type MigrationDest = { readonly user?: string; readonly host: string; readonly port?: number; readonly home?: string } & {
  readonly __brand: "MigrationDest";
};

const HINT = "Name the other host as ssh://[USER@]HOST[:PORT][/PATH-TO-SNAPVM-HOME], e.g. ssh://root@10.0.0.2/var/lib/snapvm.";
const SHAPE = /^ssh:\/\/(?:([^@/:]*)@)?(\[[^\]]*\]|[^/:@]*)(?::([^/]*))?(\/.*)?$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const HOME = /^\/[A-Za-z0-9._/-]{0,4095}$/;

function refuse(text: string, why: string): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidArgument, `invalid migration destination ${JSON.stringify(text.slice(0, 300))}: ${why}`, {
    hint: HINT,
    details: { dest: text.slice(0, 300) },
  });
}

/** The one way to make a MigrationDest; throws E_INVALID_ARGUMENT saying which part is wrong. */
export function parseMigrationDest(text: string): MigrationDest {
  const match = SHAPE.exec(text);
  if (match === null)
    return refusal(text, text.startsWith("ssh://") ? "it is not of the form ssh://[USER@]HOST[:PORT][/PATH]" : "only ssh:// destinations are supported");
  const [, user, host = "", port, home] = match;
  if (user !== undefined && !USER.test(user)) return refusal(text, `user ${JSON.stringify(user)} is not a plain user name`);
  if (!HOSTNAME.test(host) && !IPV6.test(host))
    return refusal(text, host === "" ? "it names no host" : `host ${JSON.stringify(host)} is not a host name or address`);
  let portNumber: number | undefined;
  if (port !== undefined) {
    portNumber = /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
    if (!(portNumber >= 1 && portNumber <= 65535)) return refusal(text, `port ${JSON.stringify(port)} is not 1-65535`);
  }
  let homePath: string | undefined;
  if (home !== undefined && home !== "/") {
    const trimmed = home.length > 1 && home.endsWith("/") ? home.slice(0, -1) : home;
    if (
      !HOME.test(trimmed) ||
      trimmed
        .split("/")
        .slice(1)
        .some((part) => part === "" || part === "." || part === "..")
    )
      return refusal(text, `path ${JSON.stringify(home)} is not a plain absolute path (letters, digits, '.', '_', '-', '/'; no '..')`);
    homePath = trimmed;
  }
  return {
    ...(user === undefined ? {} : { user }),
    host,
    ...(portNumber === undefined ? {} : { port: portNumber }),
    ...(homePath === undefined ? {} : { home: homePath }),
  } as MigrationDest;
}

function refusal(text: string, why: string): never {
  throw refuse(text, why);
}

/** The destination as the user wrote it, normalised (for records and messages). */
export function formatMigrationDest(dest: MigrationDest): string {
  return `ssh://${dest.user === undefined ? "" : `${dest.user}@`}${dest.host}${dest.port === undefined ? "" : `:${dest.port}`}${dest.home ?? ""}`;
}
