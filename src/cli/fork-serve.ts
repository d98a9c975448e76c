import { LineChannel } from "../instance/migrate/line-channel.ts";
import { parseForkSource } from "../instance/fork/fork.ts";
import { serveRemoteFork, type ServeChannel } from "../instance/fork/remote-serve.ts";

/** The fork's host sends a heartbeat every second; ten missed mean the link or that host is gone. */
const CLIENT_SILENCE_MS = 10_000;

/** The hidden `snapvm fork-serve NAME@TAG --sockets ID`, run over ssh by `snapvm fork ssh://… NEW --lazy`: JSON lines on stdin and stdout. */
export async function forkServeCommand(source: string, flags: { sockets: string }): Promise<void> {
  const channel: ServeChannel = new LineChannel(process.stdin, process.stdout, "the fork's host", { silenceMs: CLIENT_SILENCE_MS });
  const heartbeat = setInterval(() => {
    channel.heartbeat();
  }, 1000);
  try {
    const [instance, tag] = parseForkSource(source);
    await serveRemoteFork(channel, instance, tag, flags.sockets);
  } finally {
    clearInterval(heartbeat);
    channel.close();
    process.stdin.destroy();
  }
}
