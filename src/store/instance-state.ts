/**
 * The states an instance can be in, as status.json records them. `suspended` and `stopped` hold with
 * no agent running. Which transitions are allowed is instance logic: instance/lifecycle/transitions.ts.
 */
export const InstanceStates = ["created", "starting", "restoring", "running", "saving", "migrating", "stopping", "stopped", "suspended", "broken"] as const;
export type InstanceState = (typeof InstanceStates)[number];

/** States in which an agent process owns the instance. */
export function isActive(state: InstanceState): boolean {
  return state === "starting" || state === "restoring" || state === "running" || state === "saving" || state === "migrating" || state === "stopping";
}
