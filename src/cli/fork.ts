import { importForFork } from "../instance/bundles/fork-remote.ts";
import { forkInstance } from "../instance/fork/fork.ts";
import { identitiesOf } from "./bundle.ts";
import { ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";

export interface ForkFlags {
  count?: number;
  start?: boolean;
  template?: string;
  identity?: string[];
  passphraseFile?: string;
  passphrase?: true;
  endpoint?: string;
  json?: true;
}

export async function forkCommand(source: string, name: string, flags: ForkFlags): Promise<void> {
  // The status line is labelled with the source: the fork names are only known once parsed.
  const remote = source.startsWith("s3://");
  // Asked before the progress line starts drawing on the terminal.
  const identities = remote ? await identitiesOf(flags) : [];
  const r = await withProgress(source, async (progress) => {
    let local = source;
    if (remote) {
      local = (
        await importForFork(source, {
          identities,
          onProgress: progress.step,
          ...(flags.template === undefined ? {} : { template: flags.template }),
          ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
        })
      ).source;
    }
    return forkInstance(local, name, { ...(flags.count === undefined ? {} : { count: flags.count }), start: flags.start !== false, onProgress: progress.step });
  });
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
