import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { InstanceState } from "../../store/instance-state.ts";

/** The transitions allowed between instance states, in one table (hypeman's state.go). */
const transitions: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  created: ["starting"],
  stopped: ["starting"],
  // A restore that fails falls back to a cold boot (starting), never to a half-restored VM.
  suspended: ["restoring", "starting"],
  starting: ["running", "broken", "stopped"],
  restoring: ["running", "starting", "broken", "stopped"],
  running: ["saving", "migrating", "stopping", "stopped", "broken"],
  // A migration that fails before its switch-over (or whose destination then fails) resumes the guest here.
  migrating: ["running", "stopping", "stopped", "broken"],
  // A failed save resumes the guest: back to running.
  saving: ["suspended", "running", "stopped", "broken"],
  stopping: ["stopped", "broken"],
  broken: ["starting"],
};

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return transitions[from].includes(to);
}

export function assertTransition(name: string, from: InstanceState, to: InstanceState): void {
  if (!canTransition(from, to)) {
    throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${name}" is ${from} and cannot become ${to}`, {
      hint: from === "running" ? `Stop it first with \`snapvm stop ${name}\`.` : `Check its state with \`snapvm info ${name}\`.`,
      details: { instance: name, from, to },
    });
  }
}
