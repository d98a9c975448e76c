import { forkInstance } from "../instance/fork/fork.ts";
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
  // The S3, bundle and crypto code (and zod with it, ~0.1 s of loading) only for a remote source: a
  // local fork's command is on the path of every fork answering.
  const bundles = remote ? await Promise.all([import("../instance/bundles/fork-remote.ts"), import("./bundle.ts")]) : undefined;
  // Asked before the progress line starts drawing on the terminal.
  const identities = bundles === undefined ? [] : await bundles[1].identitiesOf(flags);
  const r = await withProgress(source, async (progress) => {
    let local = source;
    if (bundles !== undefined) {
      local = (
        await bundles[0].importForFork(source, {
          identities,
          onProgress: progress.step,
          ...(flags.template === undefined ? {} : { template: flags.template }),
          ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
        })
      ).source;
    }
    return forkInstance(local, name, { ...(flags.count === undefined ? {} : { count: flags.count }), start: flags.start !== false, onProgress: progress.step });
  });
  const failed = r.forks.filter((f) => f.failed !== undefined);
  const up = r.forks.length - failed.length;
  printResult(r, flags.json === true, () =>
    [
      failed.length === 0
        ? `forked ${r.forks.length} from ${r.from.instance}@${r.from.tag} in ${ms(r.totalMs)}`
        : `forked ${r.forks.length} from ${r.from.instance}@${r.from.tag} in ${ms(r.totalMs)}: ${up} started, ${failed.length} failed`,
      ...r.forks.map((f) => {
        if (f.failed !== undefined)
          return `  ${f.name} failed to start (${f.failed.code}): ${f.failed.message}${f.failed.hint === undefined ? "" : ` ${f.failed.hint}`}`;
        return `  ${f.name}${f.started === undefined ? "" : ` answering after ${ms(f.started.totalMs)}`}${f.ports.length === 0 ? "" : `, ports ${f.ports.map((p) => `${p.host}→${p.guest}`).join(" ")}`}`;
      }),
    ].join("\n"),
  );
  // Some forks did not start: the output says which and why; the exit status says not all did.
  if (failed.length > 0) process.exitCode = 1;
}
