import Table from "cli-table3";
import { parseDuration } from "../config/durations.ts";
import { listKeptStates, pruneKeptStates, type KeptState } from "../instance/lifecycle/failed-state-list.ts";
import { parseInstanceName } from "../paths/index.ts";
import { age, bytes } from "./format.ts";
import { printResult } from "./output.ts";

function firstLine(text: string, max = 90): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

function describeStates(states: KeptState[]): string {
  if (states.length === 0) return "no kept-aside states";
  const table = new Table({ head: ["INSTANCE", "ID", "AGE", "SIZE", "RESTORABLE", "REASON"], style: { head: [], border: [] } });
  for (const s of states) {
    table.push([s.instance, s.id, age(s.ageSeconds), bytes(s.allocatedBytes), s.restorable.ok ? "yes" : `no: ${s.restorable.why}`, firstLine(s.reason)]);
  }
  return `${table.toString()}\nrestore one with \`snapvm start NAME --state failed:ID\`; remove them with \`snapvm state prune [NAME] [--older-than 7d]\``;
}

export async function stateListCommand(name: string | undefined, flags: { json?: true }): Promise<void> {
  const result = await listKeptStates(name === undefined ? undefined : parseInstanceName(name));
  printResult(result, flags.json === true, (r) => describeStates(r.states));
}

export async function statePruneCommand(name: string | undefined, flags: { olderThan?: string; json?: true }): Promise<void> {
  const olderThanMs = flags.olderThan === undefined ? 0 : parseDuration(flags.olderThan);
  const result = await pruneKeptStates(name === undefined ? undefined : parseInstanceName(name), olderThanMs);
  printResult(result, flags.json === true, (r) =>
    r.removed.length === 0
      ? "nothing to prune"
      : [...r.removed.map((s) => `removed ${s.instance} ${s.id} (${bytes(s.allocatedBytes)})`), `freed ${bytes(r.freedBytes)}`].join("\n"),
  );
}
