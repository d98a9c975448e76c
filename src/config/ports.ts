import { z } from "zod";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { PORT_DEFAULTS } from "./defaults.ts";
import { PROTOCOLS, type PortForwardFile, type Protocol } from "./types.ts";

export const PORT_MIN = 1;
export const PORT_MAX = 65535;

/** Same check as the config schema's hostAddress, so a flag and a file accept the same addresses. */
const ipv4 = z.ipv4();

const FORMS = `HOST:GUEST, HOST:GUEST/udp or ADDRESS:HOST:GUEST[/PROTOCOL], e.g. "8080:80" or "127.0.0.1:8080:80/tcp"`;

/**
 * Parses a `--port` flag value. Returns only the fields the text sets, so defaults stay in defaults.ts.
 * Throws SnapvmError(InvalidArgument) naming the bad part.
 */
export function parsePortForward(text: string): PortForwardFile {
  const fail = (why: string): never => {
    throw new SnapvmError(ErrorCode.InvalidArgument, `invalid port forward ${JSON.stringify(text)}: ${why}`, {
      hint: `Write a port forward as ${FORMS}.`,
      details: { value: text },
    });
  };
  const slash = text.lastIndexOf("/");
  const spec = slash === -1 ? text : text.slice(0, slash);
  let protocol: Protocol | undefined;
  if (slash !== -1) {
    const name = text.slice(slash + 1).toLowerCase();
    protocol = PROTOCOLS.find((p) => p === name) ?? fail(`unknown protocol ${JSON.stringify(name)} (use tcp or udp)`);
  }
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3) fail(`expected ${FORMS}`);
  const [hostText = "", guestText = ""] = parts.slice(-2);
  const hostAddress = parts.length === 3 ? (parts[0] ?? "") : undefined;
  if (hostAddress !== undefined && !ipv4.safeParse(hostAddress).success) {
    fail(`${JSON.stringify(hostAddress)} is not an IPv4 address`);
  }
  const host = parsePortNumber(hostText) ?? fail(`host port ${JSON.stringify(hostText)} is not a number from ${PORT_MIN} to ${PORT_MAX}`);
  const guest = parsePortNumber(guestText) ?? fail(`guest port ${JSON.stringify(guestText)} is not a number from ${PORT_MIN} to ${PORT_MAX}`);
  return {
    host,
    guest,
    ...(protocol === undefined ? {} : { protocol }),
    ...(hostAddress === undefined ? {} : { hostAddress }),
  };
}

function parsePortNumber(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= PORT_MIN && port <= PORT_MAX ? port : undefined;
}

export interface DuplicatePort {
  /** Index of the later entry, the one reported. */
  index: number;
  /** Index of the entry that first forwarded the same host port. */
  firstIndex: number;
  host: number;
  protocol: Protocol;
}

/**
 * Host ports must be unique per protocol: QEMU exits at start if it cannot bind one, and two
 * forwards of one port are a typo. Compared regardless of hostAddress, because 0.0.0.0 overlaps
 * every address. `undefined` entries (invalid ones) are skipped but keep their index.
 */
export function findDuplicateHostPorts(ports: readonly (Pick<PortForwardFile, "host" | "protocol"> | undefined)[]): DuplicatePort[] {
  const first = new Map<string, number>();
  const duplicates: DuplicatePort[] = [];
  ports.forEach((port, index) => {
    if (port === undefined) return; // an invalid entry, reported on its own
    const protocol = port.protocol ?? PORT_DEFAULTS.protocol;
    const key = `${port.host}/${protocol}`;
    const firstIndex = first.get(key);
    if (firstIndex === undefined) first.set(key, index);
    else duplicates.push({ index, firstIndex, host: port.host, protocol });
  });
  return duplicates;
}
