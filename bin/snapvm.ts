#!/usr/bin/env node
// Builds the command tree and runs it; each command's module loads only when that command runs,
// which keeps `snapvm start` (the resume path) from paying for the others.
const [, , command, name] = process.argv;
if (command === "agent" && name !== undefined) {
  // The hidden agent entry skips the command parser: it starts on every resume.
  const { runAgent } = await import("../src/agent/run.ts");
  process.exitCode = await runAgent(name);
} else {
  const { buildProgram } = await import("../src/cli/program.ts");
  await buildProgram().parseAsync(process.argv);
}
