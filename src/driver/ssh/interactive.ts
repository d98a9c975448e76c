import { spawn } from "node:child_process";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { SshAccess } from "../../config/launch-spec.ts";
import { SSH_BINARY, sshArgs } from "./ssh-args.ts";

/**
 * Runs ssh attached to this process's terminal (an interactive login shell, or `command`) and
 * resolves with its exit status. `tty` asks for a terminal in the guest (ssh -t): give it when
 * standard input is one.
 */
export function runInteractiveSsh(access: SshAccess, options: { tty: boolean; command?: string }): Promise<number> {
  const args = [...sshArgs(access, { tty: options.tty }), ...(options.command === undefined ? [] : ["--", options.command])];
  return new Promise((resolve, reject) => {
    const child = spawn(SSH_BINARY, args, { stdio: "inherit" });
    child.on("error", (cause) => {
      reject(
        new SnapvmError(ErrorCode.ExternalTool, `cannot run ${SSH_BINARY}: ${cause.message}`, {
          hint: "Install the OpenSSH client (scripts/setup-host.sh).",
          cause,
        }),
      );
    });
    child.on("close", (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128 + 9));
    });
  });
}
