import { attachConsole, sshShell } from "../instance/access/console.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { notice } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

/**
 * A login shell over SSH for cloud images (exits with ssh's status); the serial console otherwise.
 * `--json` is refused before anything is touched: a shell is a terminal session and has no result to print.
 */
export async function shellCommand(text: string, flags: { json?: true } = {}): Promise<void> {
  const name = parseInstanceName(text);
  if (flags.json === true) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `shell is interactive and has no JSON output (instance "${name}")`, {
      hint: `For machine-readable results use \`snapvm exec ${name} --json -- COMMAND\`; \`snapvm info ${name} --json\` has the instance's facts.`,
      details: { instance: name, command: "shell" },
    });
  }
  const ssh = await sshShell(name);
  if (ssh !== undefined) {
    process.exitCode = await ssh.run(process.stdin.isTTY);
    return;
  }
  const raw = process.stdin.isTTY;
  notice(`attached to ${name}'s console; Ctrl-] detaches`);
  if (raw) process.stdin.setRawMode(true);
  process.stdin.resume();
  try {
    const how = await attachConsole(name, process.stdin, process.stdout);
    notice(how === "detached" ? "\ndetached" : "\nthe console closed");
  } finally {
    if (raw) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}
