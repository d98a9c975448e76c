import type { AgentReport } from "../api/agent-report.ts";

/** How one instance's start reaches the spawner. */
export interface Reporter {
  report: (message: AgentReport) => void;
  /** This instance's start is decided (ready or failed): it reports nothing more. */
  settled: () => void;
}

/** Sends a report to the `snapvm start` that spawned this agent, while the IPC channel is open. */
function send(message: AgentReport): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

/**
 * One reporter per instance the agent serves, each tagging its messages with its instance's name.
 * The IPC channel is closed once every instance's start is decided, so the spawner can exit.
 */
export function reportersFor(names: readonly string[]): Reporter[] {
  let open = names.length;
  return names.map((instance) => {
    let done = false;
    return {
      report: (message) => {
        send({ ...message, instance });
      },
      settled: () => {
        if (done) return;
        done = true;
        if (--open === 0 && process.connected) process.disconnect();
      },
    };
  });
}
