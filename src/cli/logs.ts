import { readLog, type LogKind } from "../instance/lifecycle/logs.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function logsCommand(name: string, flags: { follow?: true; agent?: true; events?: true }): Promise<void> {
  const kind: LogKind = flags.agent === true ? "agent" : flags.events === true ? "events" : "console";
  const controller = new AbortController();
  process.once("SIGINT", () => { controller.abort(); });
  for await (const chunk of readLog(parseInstanceName(name), kind, { follow: flags.follow === true, signal: controller.signal })) process.stdout.write(chunk);
}
