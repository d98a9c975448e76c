import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import type { MigrationDest } from "../../paths/index.ts";
import { LineChannel } from "./line-channel.ts";
import type { DestinationMessage, SourceMessage } from "./protocol.ts";
import { remoteSnapvm, sshArgs } from "./ssh.ts";

/** How long the destination gets to clean up after the channel closes before this side stops waiting. */
const DESTINATION_EXIT_WAIT_MS = 30_000;
/** The destination gives up on a source silent for 10 s (cli/migrate.ts SOURCE_SILENCE_MS). */
const HEARTBEAT_MS = 1000;

export interface Control {
  channel: LineChannel<DestinationMessage, SourceMessage>;
  /** The remote side's stderr explains an ssh or snapvm failure there better than "closed the connection". */
  explain(error: unknown): unknown;
  /** Closes the channel and waits (bounded) for the destination to finish its clean-up. */
  close(): Promise<void>;
}

/** `snapvm migrate-receive` on the other host over ssh: the control channel, with a heartbeat each second. */
export function openControl(dest: MigrationDest, to: string): Control {
  const control = spawn("ssh", [...sshArgs(dest), remoteSnapvm(dest, ["migrate-receive"])], { stdio: ["pipe", "pipe", "pipe"] });
  let remoteErr = "";
  control.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    remoteErr = (remoteErr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) =>
    control.on("close", () => {
      resolve();
    }),
  );
  const channel = new LineChannel<DestinationMessage, SourceMessage>(control.stdout, control.stdin, `the destination (${to})`);
  control.stdin.on("error", () => undefined);
  const heartbeat = setInterval(() => {
    channel.heartbeat();
  }, HEARTBEAT_MS);
  return {
    channel,
    explain: (error) => {
      if (!isSnapvmError(error) || error.code !== ErrorCode.MigrationFailed || !error.message.endsWith("closed the connection") || remoteErr.trim() === "")
        return error;
      return new SnapvmError(error.code, `${error.message}: ${remoteErr.trim().split("\n").slice(-3).join("; ")}`, {
        hint: "The destination needs sshd and snapvm on its PATH (or SNAPVM_REMOTE_COMMAND).",
        cause: error,
      });
    },
    close: async () => {
      clearInterval(heartbeat);
      channel.close();
      await Promise.race([exited, sleep(DESTINATION_EXIT_WAIT_MS, undefined, { ref: false })]);
      if (control.exitCode === null) control.kill("SIGTERM");
    },
  };
}
