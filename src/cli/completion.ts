import type { Command } from "commander";
import type { RootCommand } from "@bomb.sh/tab";
import { forkSourceCandidates, instanceCandidates, tagCandidates, typedInstance } from "./completion-candidates.ts";
import { buildProgram } from "./program.ts";

/** Commands whose NAME argument is a new instance, so no existing name is offered there. */
const NEW_INSTANCE_COMMANDS = new Set(["create", "import-state", "fork"]);
/** Commands whose TAG argument is a new snapshot. */
const NEW_TAG_COMMANDS = new Set(["snapshot create"]);

/**
 * `snapvm completion bash|zsh|fish|powershell` prints the script a shell sources; the script then asks
 * `snapvm complete -- WORDS…` for candidates. Both are answered by @bomb.sh/tab from the same
 * command tree as the parser, so completions never drift from the commands; the instance names, tags
 * and NAME@TAG sources that exist are added here. Loaded only for this command: nothing else pays
 * for the library.
 */
export async function completionCommand(): Promise<void> {
  const { default: tab } = await import("@bomb.sh/tab/commander");
  const program = buildProgram({ completion: false });
  // Adds `completion <shell>` (prints the script) and a hidden `complete -- WORDS…` (answers it).
  addExistingNames(tab(program as unknown as Command, { completionCommandName: "completion" }));
  await program.parseAsync(process.argv);
}

function addExistingNames(root: RootCommand): void {
  const requestWords = process.argv.slice(process.argv.indexOf("--") + 1);
  for (const [path, command] of root.commands) {
    const name = command.arguments.get("name");
    if (name !== undefined && !NEW_INSTANCE_COMMANDS.has(path))
      name.handler = (complete) => {
        for (const candidate of instanceCandidates()) complete(candidate, "");
      };
    const tag = command.arguments.get("tag");
    if (tag !== undefined && !NEW_TAG_COMMANDS.has(path))
      tag.handler = (complete) => {
        for (const candidate of tagCandidates(typedInstance(requestWords, path.split(" ").length))) complete(candidate, "");
      };
    const source = command.arguments.get("source");
    if (source !== undefined && path === "fork")
      source.handler = (complete) => {
        for (const candidate of forkSourceCandidates()) complete(candidate, "");
      };
  }
}
