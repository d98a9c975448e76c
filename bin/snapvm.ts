#!/usr/bin/env node
// Private by default: every file and directory snapvm (and QEMU, which inherits this) makes is the
// user's alone (docs/internals.md, Modes). First, before any module can create anything.
process.umask(0o077);
// Builds the command tree and runs it; each command's module loads only when that command runs,
// which keeps `snapvm start` (the resume path) from paying for the others.
const [, , command, name, ...rest] = process.argv;
if (command === "agent" && name !== undefined) {
  // The hidden agent entry (`snapvm agent NAME...`, one process for one instance or a fork group)
  // skips the command parser: it starts on every resume.
  const { runAgents } = await import("../src/agent/group.ts");
  process.exitCode = await runAgents([name, ...rest]);
} else if (command === "start" && name !== undefined && !name.startsWith("-") && rest.every((arg) => arg === "--json")) {
  // So does the resume itself, `snapvm start NAME [--json]` (~40 ms of parser set-up before the
  // agent could be spawned); anything else, --help included, goes through the parser.
  const [{ runAction }, { startCommand }] = await Promise.all([import("../src/cli/run.ts"), import("../src/cli/start.ts")]);
  const json = rest.length > 0;
  await runAction(json, () => startCommand(name, json ? { json: true } : {}));
} else if (command === "completion" || command === "complete") {
  const { completionCommand } = await import("../src/cli/completion.ts");
  await completionCommand();
} else {
  const [{ buildProgram }, { runParser }] = await Promise.all([import("../src/cli/program.ts"), import("../src/cli/parse-errors.ts")]);
  await runParser(buildProgram(), process.argv);
}
