import type { ExecResponse } from "../../api/schemas.ts";
import { shellQuote } from "../../util/shell-quote.ts";
import { withAgent } from "./agent-client.ts";
import type { InstanceName } from "../../paths/index.ts";

export interface ExecOutcome {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs argv in the guest (quoted for `sh -c`) and returns its output and exit code. */
export async function execInInstance(name: InstanceName, argv: readonly string[], options: { stdin?: Buffer; home?: string } = {}): Promise<ExecOutcome> {
  const response: ExecResponse = await withAgent(name, options.home, (agent) =>
    agent.exec({
      command: argv.length === 1 && argv[0] !== undefined && /\s/.test(argv[0]) ? argv[0] : shellQuote(argv),
      ...(options.stdin === undefined ? {} : { stdinBase64: options.stdin.toString("base64") }),
    }),
  );
  return { exitCode: response.exitCode, stdout: Buffer.from(response.stdoutBase64, "base64"), stderr: Buffer.from(response.stderrBase64, "base64") };
}
