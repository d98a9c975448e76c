import { CommanderError, type Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { printError } from "./output.ts";

/** Commander's exits that are not errors: --help, --version, and help shown for a bare group command. */
const NOT_ERRORS = new Set(["commander.helpDisplayed", "commander.version", "commander.help", "commander.executeSubCommandAsync"]);

/**
 * What a CommanderError (thrown under exitOverride) means to the user: an exit code for help and
 * version, otherwise one SnapvmError(InvalidArgument) naming the problem, with a hint to the usage
 * of the command that was being parsed.
 */
export function fromCommanderError(error: CommanderError, program: Command, argv: readonly string[]): { exitCode: number } | SnapvmError {
  if (NOT_ERRORS.has(error.code)) return { exitCode: error.exitCode };
  const message = error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
  return new SnapvmError(ErrorCode.InvalidArgument, message, {
    hint: `See \`${commandPath(program, argv)} --help\`.`,
    details: { reason: error.code.replace(/^commander\./, "") },
  });
}

/** "snapvm snapshot create" for `snapvm snapshot create x --bogus`: the command words argv names. */
function commandPath(program: Command, argv: readonly string[]): string {
  const words = [program.name()];
  let current: CommandUnknownOpts = program;
  for (const arg of argv) {
    const next = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (next === undefined) break;
    words.push(next.name());
    current = next;
  }
  return words.join(" ");
}

/**
 * Parses argv and runs the command. A parse error (bad flag value, unknown option or command,
 * missing argument) prints one line with E_INVALID_ARGUMENT, or JSON when argv has --json, and
 * exits 1; --help and --version exit 0.
 */
export async function runParser(program: Command, argv: readonly string[]): Promise<void> {
  const json = argv.includes("--json");
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      process.exitCode = printError(error, json);
      return;
    }
    const outcome = fromCommanderError(error, program, argv.slice(2));
    process.exitCode = "exitCode" in outcome ? outcome.exitCode : printError(outcome, json);
  }
}
