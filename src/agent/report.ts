import type { AgentReport } from "../api/agent-report.ts";

/** Sends a report to the `snapvm start` that spawned this agent, while the IPC channel is open. */
export function report(message: AgentReport): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

export function detachFromParent(): void {
  if (process.connected) process.disconnect();
}
