import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readConfigFile, withDefaults } from "../../config/index.ts";
import type { LaunchSpec, PortForward } from "../../config/launch-spec.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, MANIFEST_NAME, type InstanceName } from "../../paths/index.ts";
import { listInstanceNames } from "../../store/inspect.ts";
import { describeForward, hostForwardsOf, pickFreePort } from "../boot/host-ports.ts";

/** A host port an instance forwards, and where it says so. */
export interface PortClaim {
  instance: InstanceName;
  protocol: PortForward["protocol"];
  hostAddress: string;
  host: number;
  /** snapvm.yaml (the next cold boot), boot/launch.json (what the VM booted with) or suspend/ (what a restore binds). */
  source: "config" | "pinned launch" | "saved state";
}

/** The ports a launch spec read from a JSON file binds; none when the file is missing or not one. */
async function launchClaims(instance: InstanceName, path: string, source: PortClaim["source"], specOf: (json: unknown) => unknown): Promise<PortClaim[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return []; // missing, unreadable or torn: it claims nothing anyone can rely on
  }
  const spec = specOf(json) as Partial<LaunchSpec> | undefined;
  if (spec === undefined || !Array.isArray(spec.ports)) return [];
  return hostForwardsOf({ ports: spec.ports, ...(spec.guestAccess === undefined ? {} : { guestAccess: spec.guestAccess }) }).map((f) => ({
    instance,
    protocol: f.protocol,
    hostAddress: f.hostAddress,
    host: f.host,
    source,
  }));
}

async function configClaims(instance: InstanceName, path: string): Promise<PortClaim[]> {
  const file = await readConfigFile(path).catch(() => undefined); // an invalid config claims nothing
  if (file === undefined) return [];
  return withDefaults(file).ports.map((p) => ({ instance, protocol: p.protocol, hostAddress: p.hostAddress, host: p.host, source: "config" as const }));
}

/**
 * Every host port the instances of the home forward, whatever their state (a stopped instance's ports
 * are its own for its next start): from each snapvm.yaml, pinned launch and saved state. `except`
 * leaves one instance out (the one being changed). Unreadable files claim nothing.
 */
export async function readPortClaims(home?: string, except?: InstanceName): Promise<PortClaim[]> {
  const names = (await listInstanceNames(home)).filter((n) => n !== except);
  const lists = await Promise.all(
    names.map(async (name) => {
      const paths = instancePaths(name, home);
      const launchSpec = (json: unknown): unknown => (json as { spec?: unknown } | null)?.spec;
      const stateSpec = (json: unknown): unknown => (json as { launch?: { spec?: unknown } } | null)?.launch?.spec;
      const all = await Promise.all([
        configClaims(name, paths.config),
        launchClaims(name, paths.bootLaunch, "pinned launch", launchSpec),
        launchClaims(name, join(paths.suspendDir, MANIFEST_NAME), "saved state", stateSpec),
      ]);
      return all.flat();
    }),
  );
  return lists.flat();
}

const ANY_ADDRESS = new Set(["", "0.0.0.0"]);

/** Two forwards compete for a port: same protocol and port, and the same address or a wildcard on either side. */
export function forwardsOverlap(a: Pick<PortForward, "protocol" | "hostAddress" | "host">, b: Pick<PortForward, "protocol" | "hostAddress" | "host">): boolean {
  return (
    a.protocol === b.protocol && a.host === b.host && (a.hostAddress === b.hostAddress || ANY_ADDRESS.has(a.hostAddress) || ANY_ADDRESS.has(b.hostAddress))
  );
}

const SOURCE_WORDS: Readonly<Record<PortClaim["source"], string>> = {
  config: "its snapvm.yaml",
  "pinned launch": "the launch it booted with",
  "saved state": "its saved state",
};

/**
 * Refuses forwards another instance already claims (create, config set): E_PORT_IN_USE naming the
 * port and the instance, every conflict listed in details.conflicts. `subject` starts the message.
 */
export function refuseClaimedPorts(subject: string, forwards: readonly PortForward[], claims: readonly PortClaim[], hint: string): void {
  const conflicts = forwards.flatMap((forward) => {
    const claim = claims.find((c) => forwardsOverlap(forward, c));
    return claim === undefined ? [] : [{ forward, claim }];
  });
  const [first] = conflicts;
  if (first === undefined) return;
  const list = conflicts.map(
    ({ forward, claim }) => `${describeForward(forward)} is already forwarded by instance "${claim.instance}" (${SOURCE_WORDS[claim.source]})`,
  );
  throw new SnapvmError(ErrorCode.PortInUse, `${subject}: host port ${list.join("; host port ")}`, {
    hint,
    details: {
      port: first.forward.host,
      protocol: first.forward.protocol,
      hostAddress: first.forward.hostAddress,
      claimedBy: first.claim.instance,
      conflicts: conflicts.map(({ forward, claim }) => ({ port: forward.host, protocol: forward.protocol, claimedBy: claim.instance, source: claim.source })),
    },
  });
}

/**
 * Host ports handed out by this process and not yet in any file (parallel forks are built side by
 * side, each picking before any is written).
 */
export type PortReservations = Set<string>;

/**
 * A port free on the host now and claimed by no instance (nor reserved by this process), for a
 * fork's forward or a cold boot's SSH forward. Gives up after a few tries: the kernel hands out
 * ephemeral ports, which instances rarely claim.
 */
export async function pickUnclaimedPort(
  protocol: PortForward["protocol"],
  hostAddress: string,
  claims: readonly PortClaim[],
  reserved: PortReservations = new Set(),
): Promise<number> {
  for (let attempt = 0; attempt < 32; attempt++) {
    const host = await pickFreePort(protocol, hostAddress);
    const key = `${protocol}/${host}`;
    if (reserved.has(key) || claims.some((c) => forwardsOverlap({ protocol, hostAddress, host }, c))) continue;
    reserved.add(key);
    return host;
  }
  throw new Error(`no free ${protocol} port on ${hostAddress} that no instance claims after 32 tries`);
}
