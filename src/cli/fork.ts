import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { isRemoteSnapshotUrl, parseRemoteSnapshot } from "../paths/index.ts";
import { forkInstance } from "../instance/fork/fork.ts";
import { bytes, ms } from "./format.ts";
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
  lazy?: true;
  json?: true;
}

/** `snapvm fork ssh://HOST[/HOME]/NAME@TAG NEW [--lazy]`: one fork of a snapshot on another host. */
async function remoteForkCommand(source: string, name: string, flags: ForkFlags): Promise<void> {
  const remote = parseRemoteSnapshot(source);
  if (flags.count !== undefined && flags.count !== 1)
    throw new SnapvmError(ErrorCode.InvalidArgument, "an ssh:// fork makes one instance; --count is for local snapshots", {
      hint: `Fork once from ${remote.url} without --lazy (it copies the snapshot here), then \`snapvm fork ${remote.instance}-${remote.tag}@${remote.tag} NAME --count N\`.`,
    });
  if (flags.start === false || (flags.lazy === true && flags.template !== undefined))
    throw new SnapvmError(ErrorCode.InvalidArgument, `${flags.start === false ? "--no-start" : "--template"} does not go with a lazy ssh:// fork`, {
      hint: "A lazy fork runs at once and keeps no copy of the snapshot here; drop --lazy to copy it first.",
    });
  // Loaded only for an ssh:// source, like the S3 code below: a local fork's command stays light.
  const [{ lazyForkFromRemote }, { copyForkFromRemote }] = await Promise.all([
    import("../instance/fork/remote-lazy.ts"),
    import("../instance/fork/remote-copy.ts"),
  ]);
  const r = await withProgress(name, (progress) =>
    flags.lazy === true
      ? lazyForkFromRemote(remote, name, { onProgress: progress.step })
      : copyForkFromRemote(remote, name, { onProgress: progress.step, ...(flags.template === undefined ? {} : { template: flags.template }) }),
  );
  printResult(r, flags.json === true, () =>
    r.lazy
      ? `forked ${r.name} from ${r.from} (lazy): answering after ${ms(r.answeringMs)}, every page here after ${ms(r.totalMs)}` +
        (r.ramSettle === undefined ? "" : `; RAM moved from tmpfs to its file (${bytes(r.ramSettle.copiedBytes)}, guest paused ${ms(r.ramSettle.pauseMs)})`)
      : `forked ${r.name} from ${r.from} (copied first, ${bytes(r.fileBytes)}): answering after ${ms(r.answeringMs)}`,
  );
}

export async function forkCommand(source: string, name: string, flags: ForkFlags): Promise<void> {
  if (isRemoteSnapshotUrl(source)) return remoteForkCommand(source, name, flags);
  if (flags.lazy === true)
    throw new SnapvmError(ErrorCode.InvalidArgument, "--lazy is for a snapshot on another host (ssh://HOST/NAME@TAG)", {
      hint: "A local fork is always lazy: its RAM file is mapped copy-on-write.",
    });
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
