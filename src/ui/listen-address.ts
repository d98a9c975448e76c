import { isIP } from "node:net";
import { ErrorCode, SnapvmError } from "../errors/index.ts";

export interface ListenAddress {
  host: string;
  /** 0: any free port (the URL printed says which). */
  port: number;
  loopback: boolean;
}

export const DEFAULT_LISTEN = "127.0.0.1:0";

function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/**
 * `HOST:PORT` or `[IPv6]:PORT`. The dashboard drives VMs, so only loopback is served unless the caller
 * also passed `allowRemote` (--allow-remote): a typo must not publish it on the network.
 */
export function parseListen(text: string, allowRemote: boolean): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535 || (isIP(host) === 0 && host !== "localhost")) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `--listen must be IP:PORT (e.g. 127.0.0.1:8080, [::1]:8080), got "${text}"`);
  }
  const loopback = isLoopback(host);
  if (!loopback && !allowRemote) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `refusing to serve the dashboard on ${host}, which is not a loopback address`, {
      hint: "Anyone who can reach it and learns the token controls your VMs. Add --allow-remote to do it anyway, or use an SSH tunnel to 127.0.0.1.",
      details: { host },
    });
  }
  return { host, port, loopback };
}
