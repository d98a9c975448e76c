import type { StopMode } from "../api/schemas.ts";
import { stopInstance } from "../instance/lifecycle/stop.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function stopCommand(name: string, flags: { save?: boolean; force?: true; json?: true }): Promise<void> {
  const mode: StopMode = flags.force === true ? "force" : flags.save === true ? "save" : flags.save === false ? "shutdown" : "auto";
  const instance = parseInstanceName(name);
  const result = await withProgress(instance, (progress) => stopInstance(instance, mode, undefined, progress.step));
  printResult(result, flags.json === true, (r) =>
    r.action === "saved" && r.save !== undefined
      ? `${r.name} saved: guest paused ${ms(r.save.pauseMs)}, state ${bytes(r.save.stateBytes)} on disk, ${ms(r.totalMs)} in all`
      : `${r.name} ${r.action === "killed" ? "killed" : "shut down"} in ${ms(r.totalMs)}`,
  );
}
