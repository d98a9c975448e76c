import type { InstanceStatus } from "../store/status.ts";
import type { SnapvmError } from "../errors/index.ts";

/**
 * Messages from a starting agent to the `snapvm start` (or `fork`) that spawned it, over Node's IPC
 * channel. An agent serving several instances (a fork group) names the instance in each message.
 * The channel is closed once every instance's start has succeeded or failed, so the agent outlives
 * the CLI.
 */
export type AgentReport = (
  | { kind: "progress"; step: string }
  | { kind: "notice"; message: string }
  | { kind: "ready"; status: InstanceStatus }
  | { kind: "failed"; error: ReturnType<SnapvmError["toJSON"]> }
) & { instance?: string };
