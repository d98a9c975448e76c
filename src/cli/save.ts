import { saveInstance } from "../instance/lifecycle/save.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function saveCommand(name: string, flags: { json?: true }): Promise<void> {
  const instance = parseInstanceName(name);
  const result = await withProgress(instance, (progress) => saveInstance(instance, undefined, progress.step));
  printResult(
    result,
    flags.json === true,
    (r) => `${r.name} saved: guest paused ${ms(r.pauseMs)}, state ${bytes(r.stateBytes)} on disk, ${ms(r.totalMs)} in all`,
  );
}
