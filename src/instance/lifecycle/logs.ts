import type { InstanceName } from "../../paths/index.ts";
import { createReadStream, existsSync, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { instancePaths } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";

export type LogKind = "console" | "agent" | "events";

export function logPath(name: InstanceName, kind: LogKind, home?: string): string {
  const paths = instancePaths(name, home);
  return kind === "console" ? paths.consoleLog : kind === "agent" ? paths.agentLog : paths.events;
}

/**
 * Yields the log's content, then (with follow) what is appended, until `signal` aborts.
 * Follows by watching the file and reading from the last offset; a truncated file is read from 0.
 */
export async function* readLog(name: InstanceName, kind: LogKind, options: { follow?: boolean; signal?: AbortSignal; home?: string } = {}): AsyncGenerator<Buffer> {
  await inspectInstance(name, options.home); // a clear error for an unknown instance
  const path = logPath(name, kind, options.home);
  let offset = 0;
  const drain = async function* (): AsyncGenerator<Buffer> {
    if (!existsSync(path)) return;
    const { size } = await stat(path);
    if (size < offset) offset = 0;
    if (size === offset) return;
    for await (const chunk of createReadStream(path, { start: offset, end: size - 1 })) yield chunk as Buffer;
    offset = size;
  };
  yield* drain();
  if (options.follow !== true) return;
  const changed = { pending: false, wake: (): void => undefined };
  const watcher = watch(path, { persistent: true }, () => { changed.pending = true; changed.wake(); });
  const poll = setInterval(() => { changed.pending = true; changed.wake(); }, 500);
  try {
    while (options.signal?.aborted !== true) {
      if (!changed.pending) {
        await new Promise<void>((resolve) => {
          changed.wake = resolve;
          options.signal?.addEventListener("abort", () => { resolve(); }, { once: true });
        });
      }
      changed.pending = false;
      yield* drain();
    }
  } finally {
    watcher.close();
    clearInterval(poll);
  }
}
