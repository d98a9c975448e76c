import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { LaunchSpec } from "../../src/config/launch-spec.ts";
import { readPinnedLaunch } from "../../src/instance/boot/pinned-boot.ts";
import { waitAgentGone } from "../../src/instance/lifecycle/stop.ts";
import { STATE_FILE_NAMES, instancePaths, parseInstanceName } from "../../src/paths/index.ts";
import type { BenchHome } from "../home.ts";
import { restoreRaw, saveRaw, type Migration } from "../qemu/raw.ts";
import { GUEST_KINDS, guestKind, type AgentGuest, type GuestKind, type QemuGuest, type RunningGuest } from "./running.ts";

export interface ConvertEnv {
  home: BenchHome;
  multifdChannels: number;
}

/**
 * Hands a running guest over to the kind of guest the next method needs, memory intact (untimed):
 *   agent → qemu-file:  snapvm saves it; the benchmark restores that state itself (same files, same spec).
 *   qemu-file ⇄ qemu-anonymous: a full mapped-ram migration into a QEMU with the other RAM backing
 *   (the memory backend id is the same, so the state loads).
 */
export async function convertGuest(guest: RunningGuest, to: GuestKind, env: ConvertEnv): Promise<RunningGuest> {
  const from = guestKind(guest);
  if (from === to) return guest;
  if (GUEST_KINDS.indexOf(to) < GUEST_KINDS.indexOf(from)) {
    throw new Error(`cannot hand a ${from} guest to a method that needs ${to}: run agent methods first`);
  }
  const raw = guest.kind === "agent" ? await agentToQemu(guest, env.home) : guest;
  return guestKind(raw) === to ? raw : switchBacking(raw, to === "qemu-file" ? "file" : "anonymous", env);
}

async function agentToQemu(guest: AgentGuest, home: BenchHome): Promise<QemuGuest> {
  await guest.client.stop({ mode: "save" });
  const paths = instancePaths(parseInstanceName(guest.name), home.dir);
  await waitAgentGone(guest.agentPid, paths.agentLock);
  // The launch snapvm pinned at cold boot (boot/launch.json) is what its saved state loads into; read
  // as plain data, so a state format bump in a concurrently rebuilt snapvm cannot break the chain.
  const { spec } = await readPinnedLaunch(paths);
  if (spec.memoryBacking !== "file") throw new Error(`instance ${guest.name} is not file-backed`);
  const restored = await restoreRaw(home, spec, { uri: `file:${join(paths.suspendDir, STATE_FILE_NAMES.deviceState)}`, capabilities: ["x-ignore-shared"] });
  // The RAM file now moves on under the raw QEMU: the saved state must never be restored by snapvm.
  await rm(paths.suspendDir, { recursive: true, force: true });
  return restored.guest;
}

async function switchBacking(guest: QemuGuest, backing: LaunchSpec["memoryBacking"], env: ConvertEnv): Promise<QemuGuest> {
  const state = join(env.home.statesDir, "convert.state");
  const migration: Migration = { uri: `file:${state}`, capabilities: ["mapped-ram", "multifd"], channels: env.multifdChannels };
  await saveRaw(guest, migration, { syncAfter: [] });
  try {
    const spec: LaunchSpec = { ...guest.vm.spec, memoryBacking: backing };
    // mapped-ram loads only the pages that are not zero: the RAM it loads into must start out zeroed.
    if (backing === "file") await rm(spec.memoryPath, { force: true });
    return (await restoreRaw(env.home, spec, migration)).guest;
  } finally {
    await rm(state, { force: true });
  }
}
