import { rawMethod } from "./raw-method.ts";
import type { MethodEnv, SuspendMethod } from "./types.ts";

/**
 * The raw mechanism snapvm drives for file-backed RAM (DESIGN.md §3): fsync the RAM file while the
 * guest runs, `stop`, save only device state with x-ignore-shared, fsync both; restore with the same
 * argv + `-incoming defer`, migrate-incoming, `cont`. No agent, no CLI, no manifest, no clock sync:
 * the floor snapvm's own resume is compared with.
 */
export function qemuIgnoreShared(env: MethodEnv): SuspendMethod {
  const migration = (state: string): { uri: string; capabilities: "x-ignore-shared"[] } => ({ uri: `file:${state}`, capabilities: ["x-ignore-shared"] });
  return rawMethod(
    {
      id: "qemu-ignore-shared",
      input: "qemu-file",
      stateFile: "devices.state",
      ramIsState: true,
      save: migration,
      restore: migration,
    },
    env,
  );
}
