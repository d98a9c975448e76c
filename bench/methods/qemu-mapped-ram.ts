import { rawMethod } from "./raw-method.ts";
import type { MethodEnv, SuspendMethod } from "./types.ts";

/**
 * QEMU's best full copy: `file:` + mapped-ram + multifd. RAM sits at fixed offsets in a sparse file
 * (zero pages are holes) and is written and read by one thread per channel. O(dirty RAM) both ways.
 */
export function qemuMappedRam(env: MethodEnv): SuspendMethod {
  const migration = (state: string): { uri: string; capabilities: ("mapped-ram" | "multifd")[]; channels: number } => ({
    uri: `file:${state}`,
    capabilities: ["mapped-ram", "multifd"],
    channels: env.multifdChannels,
  });
  return rawMethod(
    {
      id: "qemu-mapped-ram",
      input: "qemu-anonymous",
      stateFile: "memory.state",
      save: migration,
      restore: migration,
    },
    env,
  );
}
