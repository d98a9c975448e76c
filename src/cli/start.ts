import { startInstance, type StartResult } from "../instance/lifecycle/start.ts";
import { parseStateRef, startFailedState } from "../instance/lifecycle/failed-state-start.ts";
import { ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";
import { parseInstanceName } from "../paths/index.ts";

export function describeStart(r: StartResult): string {
  const how = r.status.bootKind === "restore" ? "resumed" : "booted";
  const lines = [`${r.name} ${how} in ${ms(r.totalMs)} (guest answering ${ms(r.status.readyMs ?? 0)} after QEMU started, ${r.status.accel ?? "?"})`];
  if (r.status.pendingChanges !== undefined && r.status.pendingChanges.length > 0) {
    lines.push(
      `note: snapvm.yaml changed since this VM booted (${r.status.pendingChanges.join(", ")}); it resumed with the old settings. \`snapvm restart ${r.name}\` applies them.`,
    );
  }
  return lines.join("\n");
}

export async function startCommand(text: string, flags: { state?: string; json?: true }): Promise<void> {
  const name = parseInstanceName(text);
  if (flags.state !== undefined) {
    const ref = parseStateRef(flags.state);
    const result = await withProgress(name, (progress) => startFailedState(name, ref, { onProgress: progress.step, onNotice: progress.notice }));
    printResult(result, flags.json === true, (r) => `${describeStart(r)}\nrestored the failed state ${r.fromState}`);
    return;
  }
  const result = await withProgress(name, (progress) => startInstance(name, { onProgress: progress.step, onNotice: progress.notice }));
  printResult(result, flags.json === true, describeStart);
}
