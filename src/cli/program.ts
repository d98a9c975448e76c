import { Command, InvalidArgumentError, Option, type OptionValues } from "@commander-js/extra-typings";
import { runAction } from "./run.ts";

const json = new Option("--json", "print machine-readable JSON");

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Commander turns an InvalidArgumentError into its own error, which bin/snapvm.ts prints as E_INVALID_ARGUMENT. */
function int(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** The command tree; `completion: false` leaves out the help-only `completion` entry (completion.ts adds the real one). */
export function buildProgram(options: { completion?: boolean } = {}): Command {
  const program = new Command("snapvm")
    .description("QEMU/KVM virtual machines that stop and start in milliseconds with their memory intact")
    .version("0.1.0")
    // Parse errors are thrown (not process.exit) and printed by the caller as one line with an E_ code
    // (JSON under --json); commander's own message is silenced. Subcommands inherit both settings.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  program
    .command("create")
    .description("create an instance (config and disk)")
    .argument("<name>")
    .option("--cpus <n>", "virtual CPUs", int)
    .option("--memory <size>", "guest RAM, e.g. 512M")
    .option("--disk <size>", "disk size, e.g. 2G")
    .option("--image <image>", "tiny (built-in guest) or a qcow2 cloud image path")
    .option("--port <host:guest>", "forward a host port to the guest (repeatable)", collect, [] as string[])
    .option("--from-file <config.yaml>", "take the whole config from a file")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./create.ts")).createCommand(name, o);
      });
    });

  program
    .command("start")
    .description("start an instance: restore its saved state, or cold boot")
    .argument("<name>")
    .option("--state <failed:ID>", "restore a state kept aside after a failed restore (failed:ID from `state list`, or failed:latest)")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./start.ts")).startCommand(name, o);
      });
    });

  program
    .command("stop")
    .description("stop an instance: save its state when saveOnStop is set, else shut down")
    .argument("<name>")
    .option("--save", "save the state this time, whatever saveOnStop says")
    .option("--no-save", "shut down this time, whatever saveOnStop says")
    .option("--force", "kill QEMU (no save, no shutdown)")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./stop.ts")).stopCommand(name, o);
      });
    });

  program
    .command("save")
    .description("save the VM state to disk and stop (resume with start)")
    .argument("<name>")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./save.ts")).saveCommand(name, o);
      });
    });

  program
    .command("restart")
    .description("cold boot with the current config, dropping any saved state")
    .argument("<name>")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./restart.ts")).restartCommand(name, o);
      });
    });

  program
    .command("migrate")
    .description("move a running instance to another host (ssh://[USER@]HOST[:PORT][/SNAPVM_HOME]), live")
    .argument("<name>")
    .argument("[dest]")
    .option("--bandwidth <rate>", "cap the memory stream, bytes per second, e.g. 100M")
    .option("--postcopy", "switch to post-copy after the first pass: the guest runs there at once and pulls the rest")
    .option("--resume", "finish a post-copy a cut link broke, once the link is back")
    .addOption(json)
    .action(async (name, dest, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./migrate.ts")).migrateCommand(name, dest, o);
      });
    });
  program.command("migrate-receive", { hidden: true }).action(async () => {
    await runAction(false, async () => {
      await (await import("./migrate.ts")).migrateReceiveCommand();
    });
  });

  program
    .command("exec")
    .description("run a command in the guest; a single argument with spaces runs as a shell command")
    .argument("<name>")
    .argument("<command...>")
    .option("-i, --stdin", "pass this command's standard input to the guest command")
    .addOption(json)
    .action(async (name, command, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./exec.ts")).execCommand(name, command, o);
      });
    });

  program
    .command("shell")
    .description("an interactive shell on the guest console (Ctrl-] detaches); --json is refused (E_INVALID_ARGUMENT)")
    .argument("<name>")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./shell.ts")).shellCommand(name, o);
      });
    });

  program
    .command("ui")
    .description("a local web dashboard: instances, snapshot trees with fork buttons, consoles (prints a URL with a fresh token)")
    .option("--listen <ip:port>", "address to serve on (default 127.0.0.1, any free port)")
    .option("--allow-remote", "allow a --listen address that is not loopback")
    .option("--open", "open the URL in a browser")
    .addOption(json)
    .action(async (o) => {
      await runAction(o.json === true, async () => {
        await (await import("./ui.ts")).uiCommand(o);
      });
    });

  program
    .command("list")
    .alias("ls")
    .description("list instances")
    .addOption(json)
    .action(async (o) => {
      await runAction(o.json === true, async () => {
        await (await import("./list.ts")).listCommand(o);
      });
    });

  program
    .command("info")
    .description("everything about one instance")
    .argument("<name>")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./info.ts")).infoCommand(name, o);
      });
    });

  program
    .command("logs")
    .description("show the guest console (or --agent, --events) log")
    .argument("<name>")
    .option("-f, --follow", "keep printing what is appended")
    .option("--agent", "the agent's log")
    .option("--events", "the event log (JSON lines)")
    .addOption(new Option("--json", 'JSON lines: {"kind", "line"} per log line; with --events, each event'))
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./logs.ts")).logsCommand(name, o);
      });
    });

  program
    .command("delete")
    .alias("rm")
    .description("delete an instance and its files")
    .argument("<name>")
    .option("--force", "kill it first if it is running")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./delete.ts")).deleteCommand(name, o);
      });
    });

  const key = program.command("key").description("age keys for encrypted bundles");
  key
    .command("generate")
    .description("write a new age identity (0600) and print its public key")
    .requiredOption("--out <file>", "where to write the identity (a new file)")
    .addOption(json)
    .action(async (o) => {
      await runAction(o.json === true, async () => {
        await (await import("./bundle.ts")).keyGenerateCommand(o);
      });
    });

  const snapshot = program.command("snapshot").description("named points in time: memory and disk");
  /** Where a bundle goes and how it is encrypted: export and the live offload (create --to) share them. */
  const sinkOptions = <Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) =>
    command
      .option("--recipient <age1…>", "encrypt to this age public key (repeatable)", collect, [] as string[])
      .option("--recipient-file <file>", "encrypt to the age public keys in this file, one per line (repeatable)", collect, [] as string[])
      .option("--passphrase-file <file>", "encrypt with the passphrase on this file's first line (age scrypt)")
      .option("--passphrase", "encrypt with a passphrase asked on the terminal (age scrypt)")
      .option("--endpoint <url>", "S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS)")
      .option("--level <n>", "zstd level of the memory and disk frames, 1 (fast) to 19 (small); default 3", int);
  sinkOptions(
    snapshot
      .command("create")
      .description("snapshot a running (live, short pause) or stopped instance; with --to, stream a running one out as a bundle with no local copy")
      .argument("<name>")
      .argument("<tag>")
      .option("--to <dest>", "live offload: a new file, - (standard output) or s3://BUCKET/KEY instead of a local snapshot"),
  )
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        if (o.to === undefined) await (await import("./snapshot.ts")).snapshotCreateCommand(name, tag, o);
        else await (await import("./bundle.ts")).snapshotOffloadCommand(name, tag, { ...o, to: o.to });
      });
    });
  snapshot
    .command("list")
    .alias("ls")
    .description("list snapshots: of every instance, of one, or the bundles under s3://BUCKET/PREFIX")
    .argument("[name]", "an instance, or s3://BUCKET[/PREFIX]")
    .option("--endpoint <url>", "S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS)")
    .option("--identity <file>", "an age identity file to read encrypted bundles' manifests with (repeatable)", collect, [] as string[])
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        if (name?.startsWith("s3://") === true) await (await import("./bundle.ts")).remoteListCommand(name, o);
        else await (await import("./snapshot.ts")).snapshotListCommand(name, o);
      });
    });
  snapshot
    .command("info")
    .description("one snapshot's manifest and facts")
    .argument("<name>")
    .argument("<tag>")
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./snapshot.ts")).snapshotInfoCommand(name, tag, o);
      });
    });
  sinkOptions(
    snapshot
      .command("export")
      .description("write the snapshot, its disk chain and boot files as one bundle (docs/bundle-format.md), optionally age-encrypted")
      .argument("<name>")
      .argument("<tag>")
      .requiredOption("--to <dest>", "a new file, - (standard output) or s3://BUCKET/KEY"),
  )
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./bundle.ts")).snapshotExportCommand(name, tag, o);
      });
    });
  snapshot
    .command("import")
    .description("make a stopped instance holding the snapshot of a bundle (file, - or s3://BUCKET/KEY)")
    .argument("<source>")
    .option("--as <name>", "the new instance's name (default: the exported instance's)")
    .option("--identity <file>", "an age identity file to decrypt with (repeatable)", collect, [] as string[])
    .option("--passphrase-file <file>", "decrypt with the passphrase on this file's first line")
    .option("--passphrase", "decrypt with a passphrase asked on the terminal")
    .option("--endpoint <url>", "S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS)")
    .addOption(json)
    .action(async (source, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./bundle.ts")).snapshotImportCommand(source, o);
      });
    });
  snapshot
    .command("restore")
    .description("take the instance back to the snapshot (a running one comes back running)")
    .argument("<name>")
    .argument("<tag>")
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./snapshot.ts")).snapshotRestoreCommand(name, tag, o);
      });
    });
  snapshot
    .command("delete")
    .alias("rm")
    .description("delete a snapshot (refused while forks depend on it)")
    .argument("<name>")
    .argument("<tag>")
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./snapshot.ts")).snapshotDeleteCommand(name, tag, o);
      });
    });
  snapshot
    .command("compress")
    .description("zstd the snapshot's memory files (no guest pause; refused while forks depend on it)")
    .argument("<name>")
    .argument("<tag>")
    .option("--level <n>", "zstd level, 1 (fast) to 19 (small); default: the instance's snapshot.level", int)
    .addOption(new Option("--background", "log to agent.log instead of printing (used after snapshot create)").hideHelp())
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./snapshot.ts")).snapshotCompressCommand(name, tag, o);
      });
    });
  snapshot
    .command("decompress")
    .description("decompress the snapshot's memory files in place (restore and fork do this themselves)")
    .argument("<name>")
    .argument("<tag>")
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./snapshot.ts")).snapshotDecompressCommand(name, tag, o);
      });
    });
  snapshot
    .command("inspect")
    .description("decode a snapshot's QEMU device-state stream: machine, capabilities, sections, RAM blocks")
    .argument("<name>")
    .argument("<tag>")
    .addOption(json)
    .action(async (name, tag, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./inspect.ts")).snapshotInspectCommand(name, tag, o);
      });
    });

  program
    .command("inspect-state")
    .description("decode any QEMU migration stream file (raw, gzip or zstd) or state directory (suspend/, a snapshot's)")
    .argument("<path>")
    .addOption(json)
    .action(async (path, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./inspect.ts")).inspectStateCommand(path, o);
      });
    });

  program
    .command("import-state")
    .description("make a suspended instance from a plain QEMU migration stream (raw, gzip or zstd) and its QEMU arguments")
    .argument("<file>", 'the stream, e.g. written by migrate "exec:gzip -c > STATE.gz"')
    .argument("<name>", "the new instance")
    .option("--from-argv <argv.json>", "the QEMU arguments as a JSON array of strings (or a boot/launch.json)")
    .option("--qemu-args <args>", "the QEMU arguments as one shell-quoted string")
    .addOption(json)
    .action(async (file, name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./import-state.ts")).importStateCommand(file, name, o);
      });
    });

  program
    .command("fork")
    .description("new instances resuming from a snapshot, sharing its memory copy-on-write")
    .argument("<source>", "NAME@TAG, s3://BUCKET/KEY of a bundle (imported once, then forked), or ssh://[USER@]HOST[:PORT][/SNAPVM_HOME]/NAME@TAG")
    .argument("<name>", "the new instance (NAME-1..N with --count)")
    .option("--count <n>", "how many forks", int)
    .option("--no-start", "create them without starting")
    .option("--template <name>", "with s3://: the name of the imported instance the forks come from (default: <instance>-<tag> of the bundle)")
    .option("--identity <file>", "with s3://: an age identity file to decrypt with (repeatable)", collect, [] as string[])
    .option("--passphrase-file <file>", "with s3://: decrypt with the passphrase on this file's first line")
    .option("--passphrase", "with s3://: decrypt with a passphrase asked on the terminal")
    .option("--endpoint <url>", "with s3://: S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS)")
    .option("--lazy", "with ssh://: start it there and post-copy it here at once (answers after its device state; pages follow) instead of copying first")
    .addOption(json)
    .action(async (source, name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./fork.ts")).forkCommand(source, name, o);
      });
    });
  program
    .command("fork-serve", { hidden: true })
    .argument("<source>")
    .requiredOption("--sockets <id>", "the id of the sockets the caller's ssh made here")
    .action(async (source, o) => {
      await runAction(false, async () => {
        await (await import("./fork-serve.ts")).forkServeCommand(source, o);
      });
    });

  const state = program.command("state").description("states kept aside after failed restores (failed-states/)");
  state
    .command("list")
    .alias("ls")
    .description("list the kept-aside states of one instance or all, with why each failed and whether it can be restored")
    .argument("[name]")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./state.ts")).stateListCommand(name, o);
      });
    });
  state
    .command("prune")
    .description("delete kept-aside states (all, or those older than --older-than); ones over 7 days old also go whenever another is kept aside")
    .argument("[name]")
    .option("--older-than <duration>", "only states kept aside at least this long ago, e.g. 12h, 7d")
    .addOption(json)
    .action(async (name, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./state.ts")).statePruneCommand(name, o);
      });
    });

  const config = program.command("config").description("read or change an instance's settings");
  config
    .command("set")
    .description("set a field in snapvm.yaml (saveOnStop applies at once to a running instance)")
    .argument("<name>")
    .argument("<key=value>")
    .addOption(json)
    .action(async (name, assignment, o) => {
      await runAction(o.json === true, async () => {
        await (await import("./config-set.ts")).configSetCommand(name, assignment, o);
      });
    });

  const image = program.command("image").description("the built-in guest image");
  image
    .command("build")
    .description("build the tiny guest from Debian packages into $SNAPVM_HOME/images")
    .option("--force", "rebuild even if it exists")
    .addOption(json)
    .action(async (o) => {
      await runAction(o.json === true, async () => {
        await (await import("./image-build.ts")).imageBuildCommand(o);
      });
    });

  // Listed for --help; bin/snapvm.ts hands `completion …` and `complete -- …` to completion.ts (and @bomb.sh/tab).
  if (options.completion !== false)
    program
      .command("completion")
      .description("print a shell completion script: snapvm completion bash|zsh|fish|powershell (e.g. source <(snapvm completion bash))")
      .argument("<shell>", "bash, zsh, fish or powershell")
      .action(() => {
        throw new Error("bin/snapvm.ts runs `completion` before the parser");
      });
  return program;
}
