import { setConfigValue } from "../instance/lifecycle/config-set.ts";
import { printResult } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function configSetCommand(name: string, assignment: string, flags: { json?: true }): Promise<void> {
  const result = await setConfigValue(parseInstanceName(name), assignment);
  printResult(
    result,
    flags.json === true,
    (r) =>
      `${r.name}: ${r.key} = ${JSON.stringify(r.value)}${r.appliedLive ? " (applied to the running VM)" : " (takes effect at the next cold boot: `snapvm restart`)"}`,
  );
}
