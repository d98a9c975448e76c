import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { forkServeSockets, SCRATCH_NAMES, type RemoteSnapshot } from "../../paths/index.ts";
import { LineChannel } from "../migrate/line-channel.ts";
import { remoteSnapvm, sshArgs } from "../migrate/ssh.ts";
import type { ClientMessage, ServeMessage } from "./remote-protocol.ts";

/** The other side sends a heartbeat every second; ten missed mean the link or the host is gone. */
const SILENCE_MS = 10_000;
const HEARTBEAT_MS = 1000;
/** How long the snapshot's host gets to remove its temporary fork after the channel closes. */
const EXIT_WAIT_MS = 30_000;

export interface ServeLink {
  channel: LineChannel<ServeMessage, ClientMessage>;
  /** ssh options that reuse this connection (its ControlPath) instead of opening another. */
  shared: string[];
  /** Here: the ends of those sockets, which `pointSockets` makes lead to the receiver's. */
  local: { state: string; disk: string };
  /** ssh's own failure (exit 255 before a word: the host is unreachable) or the remote stderr, as the error. */
  explain(error: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * `snapvm fork-serve NAME@TAG` on the snapshot's host over ssh, with a heartbeat each second. The same
 * connection makes the migration's two sockets there (`-R`, leading to `local`, which exist only once
 * the receiver listens: ssh connects per use) and is the master the file copies share: one SSH
 * handshake in all instead of three. `scratch` is a private directory of this side's.
 */
export function openServeLink(remote: RemoteSnapshot, scratch: string): ServeLink {
  const socketsId = randomBytes(8).toString("hex");
  const there = forkServeSockets(socketsId);
  if (there === undefined) throw new Error("a fresh id is 16 hex digits");
  const local = { state: join(scratch, SCRATCH_NAMES.migrationState), disk: join(scratch, SCRATCH_NAMES.migrationDisk) };
  const control = join(scratch, SCRATCH_NAMES.sshControl);
  const options = [
    "-o",
    "ExitOnForwardFailure=yes",
    "-R",
    `${there.state}:${local.state}`,
    "-R",
    `${there.disk}:${local.disk}`,
    "-o",
    "ControlMaster=yes",
    "-o",
    `ControlPath=${control}`,
  ];
  const child = spawn(
    "ssh",
    [...sshArgs(remote.host, options), remoteSnapvm(remote.host, ["fork-serve", `${remote.instance}@${remote.tag}`, "--sockets", socketsId])],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let remoteErr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    remoteErr = (remoteErr + chunk).slice(-4000);
  });
  let heard = false;
  child.stdout.once("data", () => (heard = true));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdin.on("error", () => undefined);
  const channel = new LineChannel<ServeMessage, ClientMessage>(child.stdout, child.stdin, `the snapshot's host (${remote.url})`, { silenceMs: SILENCE_MS });
  const heartbeat = setInterval(() => {
    channel.heartbeat();
  }, HEARTBEAT_MS);
  return {
    channel,
    shared: ["-o", "ControlMaster=no", "-o", `ControlPath=${control}`],
    local,
    explain: async (error) => {
      if (!isSnapvmError(error) || !error.message.endsWith("closed the connection")) return error;
      // ssh's exit status comes after its output closes.
      await Promise.race([exited, sleep(2000, undefined, { ref: false })]);
      const why = remoteErr.trim().split("\n").slice(-3).join("; ");
      if (!heard && child.exitCode === 255)
        return new SnapvmError(ErrorCode.RemoteUnreachable, `cannot reach ${remote.url} over ssh: ${why || "ssh exited 255"}`, {
          hint: "Check that the host answers `ssh HOST true` without a password prompt (keys or an agent; BatchMode is on).",
          details: { url: remote.url },
        });
      if (why === "") return error;
      return new SnapvmError(error.code, `${error.message}: ${why}`, {
        hint: "The snapshot's host needs sshd and snapvm on its PATH (or SNAPVM_REMOTE_COMMAND).",
        cause: error,
      });
    },
    close: async () => {
      clearInterval(heartbeat);
      channel.close();
      await Promise.race([exited, sleep(EXIT_WAIT_MS, undefined, { ref: false })]);
      if (child.exitCode === null) child.kill("SIGTERM");
    },
  };
}
