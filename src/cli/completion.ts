import type { Command } from "commander";
import { buildProgram } from "./program.ts";

/**
 * `snapvm completion bash|zsh|fish|powershell` prints the script a shell sources; the script then asks
 * `snapvm complete -- WORDS…` for candidates. Both are answered by @bomb.sh/tab from the same
 * command tree as the parser, so completions never drift from the commands. Loaded only for this
 * command: nothing else pays for the library.
 */
export async function completionCommand(): Promise<void> {
  const { default: tab } = await import("@bomb.sh/tab/commander");
  const program = buildProgram({ completion: false });
  // Adds `completion <shell>` (prints the script) and a hidden `complete -- WORDS…` (answers it).
  tab(program as unknown as Command, { completionCommandName: "completion" });
  await program.parseAsync(process.argv);
}
