import { logRecords } from "../instance/lifecycle/log-lines.ts";
import { readLog, type LogKind } from "../instance/lifecycle/logs.ts";
import { printChunk, printJsonLine } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

/** Prints a log as it is, or with --json as JSON lines (log-lines.ts says what a record is). */
export async function logsCommand(name: string, flags: { follow?: true; agent?: true; events?: true; json?: true }): Promise<void> {
  const kind: LogKind = flags.agent === true ? "agent" : flags.events === true ? "events" : "console";
  const controller = new AbortController();
  process.once("SIGINT", () => {
    controller.abort();
  });
  const chunks = readLog(parseInstanceName(name), kind, { follow: flags.follow === true, signal: controller.signal });
  if (flags.json === true) {
    for await (const record of logRecords(kind, chunks)) printJsonLine(record);
  } else {
    for await (const chunk of chunks) printChunk(chunk);
  }
}
