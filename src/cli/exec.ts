import { execInInstance } from "../instance/access/exec.ts";
import { parseInstanceName } from "../paths/index.ts";

/** Prints the guest command's stdout and stderr as they are and exits with its exit code. */
export async function execCommand(text: string, command: string[], flags: { json?: true; stdin?: true }): Promise<void> {
  const name = parseInstanceName(text);
  const stdin = flags.stdin === true ? await readAll(process.stdin) : undefined;
  const result = await execInInstance(name, command, stdin === undefined ? {} : { stdin });
  if (flags.json === true) {
    process.stdout.write(
      `${JSON.stringify({ exitCode: result.exitCode, stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8") }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
  }
  process.exitCode = result.exitCode;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
