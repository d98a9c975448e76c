import { openAgentConsole } from "../../api/console-client.ts";
import { guestAccessOf } from "../../config/launch-spec.ts";
import { SSH_HOST } from "../../driver/ssh/ssh-args.ts";
import { runInteractiveSsh } from "../../driver/ssh/interactive.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { connectUnixWithRetry } from "../../util/connect-unix.ts";
import { readPinnedLaunch } from "../boot/pinned-boot.ts";

/** Ctrl-] detaches, as in telnet and virsh console. */
export const DETACH_BYTE = 0x1d;

/** One connection to the console: through the agent's websocket, or QEMU's socket itself. */
interface ConsoleLink {
  send(chunk: Buffer | string): void;
  close(): void;
  onClose(listener: () => void): void;
}

/**
 * QEMU's console socket directly, for an agent that does not serve /v1/console (started by an older
 * snapvm): it takes one client, so a second viewer waits until the first leaves.
 */
async function directLink(name: InstanceName, output: NodeJS.WritableStream, home: string | undefined): Promise<ConsoleLink> {
  try {
    const socket = await connectUnixWithRetry(instancePaths(name, home).consoleSocket, 2000);
    socket.on("data", (chunk: Buffer) => output.write(chunk));
    return { send: (chunk) => socket.write(chunk), close: () => socket.destroy(), onClose: (listener) => socket.on("close", listener) };
  } catch (cause) {
    throw new SnapvmError(ErrorCode.GuestChannel, `instance "${name}": cannot open its console`, {
      cause,
      hint: "Is another `snapvm shell` attached? An agent from an older snapvm leaves the console to one client; `snapvm restart` updates it.",
    });
  }
}

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
  const ws = await openAgentConsole(instancePaths(name, home).agentSocket, name, (chunk) => output.write(chunk));
  const link: ConsoleLink =
    ws === undefined
      ? await directLink(name, output, home)
      : {
          send: (chunk) => {
            ws.send(chunk);
          },
          close: () => {
            ws.close();
          },
          onClose: (listener) => ws.on("close", listener),
        };
  return new Promise((resolve) => {
    const onInput = (chunk: Buffer): void => {
      const at = chunk.indexOf(DETACH_BYTE);
      if (at >= 0) {
        if (at > 0) link.send(chunk.subarray(0, at));
        cleanup();
        resolve("detached");
        return;
      }
      link.send(chunk);
    };
    const cleanup = (): void => {
      input.removeListener("data", onInput);
      link.close();
    };
    input.on("data", onInput);
    link.onClose(() => {
      cleanup();
      resolve("closed");
    });
    link.send("\n"); // show a prompt
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
