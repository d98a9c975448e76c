import { restartInstance } from "../instance/lifecycle/restart.ts";
import { printResult } from "./output.ts";
import { progressPrinter } from "./progress.ts";
import { describeStart } from "./start.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function restartCommand(text: string, flags: { json?: true }): Promise<void> {
  const name = parseInstanceName(text);
  const progress = progressPrinter(name);
  try {
    const result = await restartInstance(name, { onProgress: progress.step, onNotice: progress.notice });
    progress.done();
    printResult(result, flags.json === true, (r) => `${r.droppedState ? "dropped the saved state; " : ""}${describeStart(r)}`);
  } finally {
    progress.done();
  }
}
