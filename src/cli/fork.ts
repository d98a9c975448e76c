import { forkInstance } from "../instance/fork/fork.ts";
import { ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";

export async function forkCommand(source: string, name: string, flags: { count?: number; start?: boolean; json?: true }): Promise<void> {
  // The status line is labelled with the source: the fork names are only known once parsed.
  const r = await withProgress(source, (progress) =>
    forkInstance(source, name, { ...(flags.count === undefined ? {} : { count: flags.count }), start: flags.start !== false, onProgress: progress.step }),
  );
  printResult(r, flags.json === true, () =>
    [
      `forked ${r.forks.length} from ${r.from.instance}@${r.from.tag} in ${ms(r.totalMs)}`,
      ...r.forks.map(
        (f) =>
          `  ${f.name}${f.started === undefined ? "" : ` answering after ${ms(f.started.totalMs)}`}${f.ports.length === 0 ? "" : `, ports ${f.ports.map((p) => `${p.host}→${p.guest}`).join(" ")}`}`,
      ),
    ].join("\n"),
  );
}
