import { restartInstance } from "../instance/lifecycle/restart.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";
import { describeStart } from "./start.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function restartCommand(text: string, flags: { json?: true }): Promise<void> {
  const name = parseInstanceName(text);
  const result = await withProgress(name, (progress) => restartInstance(name, { onProgress: progress.step, onNotice: progress.notice }));
  printResult(result, flags.json === true, (r) => `${r.droppedState ? "dropped the saved state; " : ""}${describeStart(r)}`);
}
