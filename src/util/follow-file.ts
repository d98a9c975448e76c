import { createReadStream, watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";

export interface FollowOptions {
  /** Keep yielding what is appended until `signal` aborts; without it, yield the content and return. */
  follow?: boolean;
  signal?: AbortSignal;
  /** A safety net under fs.watch (which misses some writers and cannot watch a file not yet there). */
  pollMs?: number;
}

/**
 * Yields a file's content, then (with follow) what is appended, reading from the last offset; a
 * truncated file is read again from 0. A file that does not exist yet yields nothing until it
 * appears. Contract for long follows: exactly one abort listener and one timer for the whole
 * follow, whatever the number of wake-ups, and everything is released when the loop ends.
 */
export async function* followFile(path: string, options: FollowOptions = {}): AsyncGenerator<Buffer> {
  let offset = 0;
  const drain = async function* (): AsyncGenerator<Buffer> {
    const size = await stat(path).then(
      (s) => s.size,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      },
    );
    if (size === undefined) return;
    if (size < offset) offset = 0;
    if (size === offset) return;
    for await (const chunk of createReadStream(path, { start: offset, end: size - 1 })) yield chunk as Buffer;
    offset = size;
  };
  yield* drain();
  if (options.follow !== true) return;

  const signal = options.signal;
  const aborted = (): boolean => signal?.aborted === true;
  // Set from callbacks (watcher, timer, abort), read by the loop: an object so narrowing leaves it alone.
  const wakeUp: { pending: boolean; resolve: (() => void) | undefined } = { pending: false, resolve: undefined };
  const notify = (): void => {
    wakeUp.pending = true;
    const resolve = wakeUp.resolve;
    wakeUp.resolve = undefined;
    resolve?.();
  };
  let watcher: FSWatcher | undefined;
  const ensureWatcher = (): void => {
    if (watcher !== undefined) return;
    try {
      watcher = watch(path, { persistent: true }, notify);
      // The file was removed or replaced: drop the watcher; the next wake-up watches the new one.
      watcher.on("error", () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  };
  signal?.addEventListener("abort", notify, { once: true });
  const poll = setInterval(notify, options.pollMs ?? 500);
  try {
    ensureWatcher();
    while (!aborted()) {
      if (!wakeUp.pending)
        await new Promise<void>((resolve) => {
          wakeUp.resolve = resolve;
        });
      wakeUp.pending = false;
      if (aborted()) break;
      ensureWatcher();
      yield* drain();
    }
  } finally {
    watcher?.close();
    clearInterval(poll);
    signal?.removeEventListener("abort", notify);
  }
}
