import { readConfigFile, resolveConfig, withDefaults } from "../src/config/index.ts";
import type { LaunchSpec } from "../src/config/launch-spec.ts";
import { chooseAccel, probeHost } from "../src/driver/qemu/accel.ts";
import { launchSpecFromConfig } from "../src/instance/boot/launch-spec.ts";
import { instancePaths, parseInstanceName } from "../src/paths/index.ts";

/** The launch spec a cold boot of the instance would use: the same generator snapvm's agent calls. */
export async function coldBootSpec(home: string, text: string): Promise<LaunchSpec> {
  const name = parseInstanceName(text);
  const paths = instancePaths(name, home);
  const config = resolveConfig(withDefaults(await readConfigFile(paths.config)), { baseDir: paths.dir, sourceName: paths.config });
  const accel = chooseAccel(config.accel, await probeHost());
  // The benchmark's guest is the built-in tiny image, reached through its virtio-serial agent.
  return launchSpecFromConfig(name, config, paths, accel.accel, { kind: "agent" }, home);
}
