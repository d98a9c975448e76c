import { saveInstance } from "../instance/lifecycle/save.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function saveCommand(name: string, flags: { json?: true }): Promise<void> {
  const result = await saveInstance(parseInstanceName(name));
  printResult(result, flags.json === true, (r) => `${r.name} saved: guest paused ${ms(r.pauseMs)}, state ${bytes(r.stateBytes)} on disk, ${ms(r.totalMs)} in all`);
}
