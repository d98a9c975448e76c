/**
 * The status line of an operation that can take more than a second: `NAME: step… 1.3s` on stderr,
 * redrawn every `intervalMs` so the elapsed time advances while a step waits (a pre-copy, a zstd
 * pass, an agent saving). Only on a terminal: scripts, CI and pipes see just the result. Hand-written
 * rather than ora/listr2: it is on `snapvm start`'s path (the resume), where a spinner library's
 * import would cost more than the whole printer, and one line with a timer is all the CLI needs.
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

export interface Progress {
  /** Shows `text` as the current step (replacing the previous one) and keeps its elapsed time moving. */
  step: (text: string) => void;
  /** A line that stays (printed on a terminal or not); the current step is redrawn below it. */
  notice: (text: string) => void;
  /** Clears the line and stops the timer. Idempotent: callers call it on success and in `finally`. */
  done: () => void;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  intervalMs?: number;
  now?: () => number;
}

const CLEAR = "\r\x1b[2K";

export function progressPrinter(name: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const started = now();
  let current: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    if (current !== undefined) stream.write(`${CLEAR}${name}: ${current}… ${((now() - started) / 1000).toFixed(1)}s`);
  };
  return {
    step: (text) => {
      if (!tty) return;
      current = text;
      draw();
      // unref: a status line never keeps the process alive after the operation has returned.
      timer ??= setInterval(draw, options.intervalMs ?? 100).unref();
    },
    notice: (text) => {
      if (current !== undefined) stream.write(CLEAR);
      stream.write(`snapvm: ${text}\n`);
      draw();
    },
    done: () => {
      clearInterval(timer);
      timer = undefined;
      if (current !== undefined) stream.write(CLEAR);
      current = undefined;
    },
  };
}

/** Runs `operation` with a status line for `name`, cleared before the caller prints (or throws). */
export async function withProgress<T>(name: string, operation: (progress: Progress) => Promise<T>): Promise<T> {
  const progress = progressPrinter(name);
  try {
    return await operation(progress);
  } finally {
    progress.done();
  }
}
