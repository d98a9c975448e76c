import type { Socket } from "node:net";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { instancePaths } from "../paths/index.ts";
import { inspectInstance } from "../store/inspect.ts";
import { connectUnixWithRetry } from "../util/connect-unix.ts";

/** Ctrl-] detaches, as in telnet and virsh console. */
export const DETACH_BYTE = 0x1d;

/**
 * Attaches a terminal to the guest's serial console (the tiny guest runs a shell there).
 * Resolves when the user detaches or the VM's console closes.
 */
export async function attachConsole(name: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, home?: string): Promise<"detached" | "closed"> {
  const current = await inspectInstance(name, home);
  if (current.state !== "running") {
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is ${current.state}`, { hint: `Start it with \`snapvm start ${name}\`.` });
  }
  let socket: Socket;
  try {
    socket = await connectUnixWithRetry(instancePaths(name, home).consoleSocket, 2000);
  } catch (cause) {
    throw new SnapvmError(ErrorCode.GuestChannel, `instance "${name}": cannot open its console`, { cause, hint: "Is another `snapvm shell` attached? The console takes one client." });
  }
  return new Promise((resolve) => {
    const onInput = (chunk: Buffer): void => {
      const at = chunk.indexOf(DETACH_BYTE);
      if (at >= 0) {
        socket.end(chunk.subarray(0, at));
        cleanup();
        resolve("detached");
        return;
      }
      socket.write(chunk);
    };
    const cleanup = (): void => { input.removeListener("data", onInput); socket.destroy(); };
    input.on("data", onInput);
    socket.on("data", (chunk: Buffer) => output.write(chunk));
    socket.on("close", () => { cleanup(); resolve("closed"); });
    socket.write("\n"); // show a prompt
  });
}
