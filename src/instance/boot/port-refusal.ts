import type { PortForward } from "../../config/launch-spec.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { findPortHolder, type PortHolder } from "../../util/port-holder.ts";
import { describeForward, type HostForward } from "./host-ports.ts";

/** Which start a refusal stopped: it says what was left as it was. */
export type StartPurpose = "restore" | "boot";

/** What the holder of a port is, for a message: a snapvm instance's QEMU (from its `-name snapvm-NAME`), or a process. */
export function describeHolder(holder: PortHolder | undefined): string {
  if (holder === undefined) return "another process (snapvm could not tell which)";
  const name = holder.argv[holder.argv.indexOf("-name") + 1];
  if (holder.argv.includes("-name") && name?.startsWith("snapvm-") === true) return `snapvm instance "${name.slice(7)}" (QEMU pid ${holder.pid})`;
  const command = holder.command.length > 80 ? `${holder.command.slice(0, 77)}...` : holder.command;
  return `pid ${holder.pid} (${command})`;
}

function forwardWords(forward: HostForward): string {
  if (forward.ssh === true) return `${describeForward(forward)} (snapvm's SSH forward)`;
  return forward.guest > 0 ? `${describeForward(forward)} (forwarded to guest port ${forward.guest})` : describeForward(forward);
}

/**
 * E_PORT_IN_USE for forwards found taken: names each port and, when /proc shows it, its holder.
 * Marked details.hostResource ("port"): nothing was started and the saved state is where it was.
 */
export async function portInUse(instance: string, busy: readonly HostForward[], purpose: StartPurpose): Promise<SnapvmError> {
  const holders = await Promise.all(busy.map((f) => findPortHolder(f.protocol, f.host).catch(() => undefined)));
  const parts = busy.map((f, i) => `${forwardWords(f)} is in use by ${describeHolder(holders[i])}`);
  const first = busy[0];
  const holder = holders[0];
  const left = purpose === "restore" ? "its saved state was left as it was" : "nothing was started";
  const unknown = holders.some((h) => h === undefined);
  return new SnapvmError(ErrorCode.PortInUse, `instance "${instance}" cannot start: host port ${parts.join("; host port ")}; ${left}`, {
    hint: `Free the port${busy.length > 1 ? "s" : ""} (stop what holds ${busy.length > 1 ? "them" : "it"}), then run \`snapvm start ${instance}\` again${
      unknown ? `; \`ss -lntup\` shows who listens` : ""
    }.`,
    details: {
      instance,
      hostResource: "port",
      ...(first === undefined ? {} : { port: first.host, protocol: first.protocol, hostAddress: first.hostAddress }),
      ...(holder === undefined ? {} : { holder: { pid: holder.pid, command: holder.command } }),
      ports: busy.map((f, i) => ({
        port: f.host,
        protocol: f.protocol,
        hostAddress: f.hostAddress,
        ...(holders[i] === undefined ? {} : { holderPid: holders[i].pid }),
      })),
    },
  });
}

/** A refusal before anything started (a port, a file, space): the caller must not touch the saved state. */
export function isHostRefusal(error: unknown): error is SnapvmError {
  return isSnapvmError(error) && typeof error.details["hostResource"] === "string";
}

/** QEMU's words for a host forward it could not bind: `Could not set up host forwarding rule 'tcp:127.0.0.1:8080-:80'`. */
const FORWARD_FAILED = /Could not set up host forwarding rule '(tcp|udp):([^:']*):(\d+)-/;

export function parseForwardFailure(line: string): Pick<PortForward, "protocol" | "hostAddress" | "host"> | undefined {
  const match = FORWARD_FAILED.exec(line);
  if (match === null) return undefined;
  const [, protocol, hostAddress = "", port = ""] = match;
  return { protocol: protocol === "udp" ? "udp" : "tcp", hostAddress, host: Number(port) };
}

/**
 * Watches a QEMU's stderr for a host forward it could not set up: a port taken between the check and
 * QEMU's bind. QEMU then exits before its QMP greeting, so the start fails with E_QMP_CLOSED, which
 * says nothing; this turns that into E_PORT_IN_USE.
 */
export class ForwardFailureWatch {
  private failed: Pick<PortForward, "protocol" | "hostAddress" | "host"> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly next: (line: string) => void) {}

  readonly onLine = (line: string): void => {
    this.failed ??= parseForwardFailure(line);
    if (this.failed !== undefined) this.wake?.();
    this.next(line);
  };

  /**
   * After a failed start: E_PORT_IN_USE if QEMU named a forward it could not bind, else undefined.
   * Waits up to `graceMs` for the line: QEMU's QMP socket can close before its stderr is read.
   */
  async refusal(instance: string, forwards: readonly HostForward[], purpose: StartPurpose, graceMs = 500): Promise<SnapvmError | undefined> {
    if (this.failed === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const failed = this.failed;
    if (failed === undefined) return undefined;
    const forward = forwards.find((f) => f.protocol === failed.protocol && f.host === failed.host) ?? { ...failed, guest: 0 }; // 0: not one the spec names
    return portInUse(instance, [forward], purpose);
  }
}
