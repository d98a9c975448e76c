import { openAgentConsole } from "../../api/console-client.ts";
import { guestAccessOf } from "../../config/launch-spec.ts";
import { SSH_HOST } from "../../driver/ssh/ssh-args.ts";
import { runInteractiveSsh } from "../../driver/ssh/interactive.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { readPinnedLaunch } from "../boot/pinned-boot.ts";

/** Ctrl-] detaches, as in telnet and virsh console. */
export const DETACH_BYTE = 0x1d;

/**
 * Attaches a terminal to the guest's serial console (the tiny guest runs a shell there) through the
 * agent, which is QEMU's one console client and serves any number of viewers (a browser too).
 * Output starts with the agent's scrollback. Resolves when the user detaches or the VM's console closes.
 */
export async function attachConsole(
  name: InstanceName,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  home?: string,
): Promise<"detached" | "closed"> {
  await requireRunning(name, home);
  const socket = await openAgentConsole(instancePaths(name, home).agentSocket, name, (chunk) => output.write(chunk));
  return new Promise((resolve) => {
    const onInput = (chunk: Buffer): void => {
      const at = chunk.indexOf(DETACH_BYTE);
      if (at >= 0) {
        if (at > 0) socket.send(chunk.subarray(0, at));
        cleanup();
        resolve("detached");
        return;
      }
      socket.send(chunk);
    };
    const cleanup = (): void => {
      input.removeListener("data", onInput);
      socket.close();
    };
    input.on("data", onInput);
    socket.on("close", () => {
      cleanup();
      resolve("closed");
    });
    socket.send("\n"); // show a prompt
  });
}

async function requireRunning(name: InstanceName, home: string | undefined): Promise<void> {
  const current = await inspectInstance(name, home);
  if (current.state !== "running") {
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is ${current.state}`, { hint: `Start it with \`snapvm start ${name}\`.` });
  }
}

export interface SshShell {
  /** `user@127.0.0.1:port`, for telling the user where they are. */
  target: string;
  /** Runs the login; `tty` when standard input is a terminal. Resolves with ssh's exit status. */
  run(tty: boolean): Promise<number>;
}

/**
 * A login over SSH when the running guest is reached that way (cloud images: the key and port of
 * its pinned launch spec); undefined when `snapvm shell` should attach the serial console instead.
 */
export async function sshShell(name: InstanceName, home?: string): Promise<SshShell | undefined> {
  await requireRunning(name, home);
  const access = guestAccessOf((await readPinnedLaunch(instancePaths(name, home))).spec);
  if (access.kind !== "ssh") return undefined;
  return { target: `${access.user}@${SSH_HOST}:${access.port}`, run: (tty) => runInteractiveSsh(access, { tty }) };
}
