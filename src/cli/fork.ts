import { forkInstance } from "../instance/fork/fork.ts";
import { ms } from "./format.ts";
import { printResult } from "./output.ts";

export async function forkCommand(source: string, name: string, flags: { count?: number; start?: boolean; json?: true }): Promise<void> {
  const r = await forkInstance(source, name, { ...(flags.count === undefined ? {} : { count: flags.count }), start: flags.start !== false });
  printResult(r, flags.json === true, () => [
    `forked ${r.forks.length} from ${r.from.instance}@${r.from.tag} in ${ms(r.totalMs)}`,
    ...r.forks.map((f) => `  ${f.name}${f.started === undefined ? "" : ` answering after ${ms(f.started.totalMs)}`}${f.ports.length === 0 ? "" : `, ports ${f.ports.map((p) => `${p.host}→${p.guest}`).join(" ")}`}`),
  ].join("\n"));
}
