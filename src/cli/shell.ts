import { attachConsole, sshShell } from "../instance/access/console.ts";
import { notice } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

/** A login shell over SSH for cloud images (exits with ssh's status); the serial console otherwise. */
export async function shellCommand(text: string): Promise<void> {
  const name = parseInstanceName(text);
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
