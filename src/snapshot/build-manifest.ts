import type { PinnedLaunch } from "./launch.ts";
import { snapvmVersion } from "../util/snapvm-version.ts";
import { STATE_FORMAT, STATE_FORMAT_VERSION, type StateFile, type StateManifest } from "./manifest.ts";

export interface ManifestInput {
  kind: StateManifest["kind"];
  launch: PinnedLaunch;
  files: StateFile[];
  pauseMs: number;
  parent?: string | null;
  snapshot?: NonNullable<StateManifest["snapshot"]>;
}

/** The one place a state manifest is assembled: suspend states, snapshots and imports all use it. */
export function buildManifest(input: ManifestInput): StateManifest {
  const spec = input.launch.spec;
  return {
    format: STATE_FORMAT,
    formatVersion: STATE_FORMAT_VERSION,
    kind: input.kind,
    createdAt: new Date().toISOString(),
    snapvmVersion: snapvmVersion(),
    qemuVersion: input.launch.qemuVersion,
    accel: spec.accel,
    machine: "q35",
    cpuModel: spec.accel === "kvm" ? "host" : "max",
    memory: { backing: spec.memoryBacking, sizeBytes: spec.memoryBytes },
    launch: input.launch,
    files: input.files,
    pauseMs: input.pauseMs,
    parent: input.parent ?? null,
    ...(input.snapshot === undefined ? {} : { snapshot: input.snapshot }),
  };
}
