import type { AgentClient } from "../../src/api/client.ts";
import type { QemuVm } from "../../src/driver/qemu/vm.ts";

/** A guest snapvm runs: its agent owns QEMU; the benchmark talks to it over the agent API. */
export interface AgentGuest {
  kind: "agent";
  name: string;
  agentPid: number;
  qemuPid: number;
  client: AgentClient;
}

/** A guest the benchmark drives itself over QMP and the guest channel (the raw QEMU methods). */
export interface QemuGuest {
  kind: "qemu";
  vm: QemuVm;
}

export type RunningGuest = AgentGuest | QemuGuest;

/**
 * What a method saves from and restores to. Guests move along this order only (a raw QEMU cannot be
 * handed back to a snapvm agent), so the chain runs agent methods first.
 */
export const GUEST_KINDS = ["agent", "qemu-file", "qemu-anonymous"] as const;
export type GuestKind = (typeof GUEST_KINDS)[number];

export function guestKind(guest: RunningGuest): GuestKind {
  if (guest.kind === "agent") return "agent";
  return guest.vm.spec.memoryBacking === "file" ? "qemu-file" : "qemu-anonymous";
}

export function qemuPidOf(guest: RunningGuest): number {
  return guest.kind === "agent" ? guest.qemuPid : guest.vm.pid;
}

export class GuestCommandError extends Error {}

/** Runs a shell command in the guest and returns its stdout; a non-zero exit throws with its stderr. */
export async function guestRun(guest: RunningGuest, command: string, timeoutMs = 280_000): Promise<string> {
  let exitCode: number;
  let stdout: Buffer;
  let stderr: Buffer;
  if (guest.kind === "agent") {
    const reply = await guest.client.exec({ command, timeoutMs });
    exitCode = reply.exitCode;
    stdout = Buffer.from(reply.stdoutBase64, "base64");
    stderr = Buffer.from(reply.stderrBase64, "base64");
  } else {
    ({ exitCode, stdout, stderr } = await (await guest.vm.guest()).exec(command, { timeoutMs }));
  }
  if (exitCode !== 0) throw new GuestCommandError(`guest command \`${command}\` exited ${exitCode}: ${stderr.toString("utf8").trim()}`);
  return stdout.toString("utf8");
}

/** The command whose answer counts as "the guest answers": trivial, so the figure is the path to the guest. */
export const PROBE_COMMAND = "echo ok";

export async function probe(guest: RunningGuest): Promise<void> {
  const answer = await guestRun(guest, PROBE_COMMAND, 60_000);
  if (answer !== "ok\n") throw new Error(`the guest answered ${JSON.stringify(answer)} to ${PROBE_COMMAND}`);
}
