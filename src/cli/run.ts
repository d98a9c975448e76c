import { printError } from "./output.ts";

/** Runs a command's action: on error prints it (no stack for user errors) and sets the exit code. */
export async function runAction(json: boolean, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    process.exitCode = printError(error, json);
  }
}
