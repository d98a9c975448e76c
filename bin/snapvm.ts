#!/usr/bin/env node
import { buildProgram } from "../src/cli/program.ts";

// Builds the command tree and runs it; each command's module loads only when that command runs,
// which keeps `snapvm start` (the resume path) from paying for the others.
await buildProgram().parseAsync(process.argv);
