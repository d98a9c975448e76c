import { isQmpEvent, type QmpEvent, type QmpEventName } from "./event-map.ts";
import type { QmpEventMessage } from "./protocol.ts";
import { startTimer } from "./timer.ts";

export interface WaitForEventOptions<N extends QmpEventName> {
  /** Default: the client's `commandTimeoutMs`. `Infinity` waits until the event, an abort or the close. */
  timeoutMs?: number;
  /** Events of the right name that fail it are skipped; if it throws, the wait rejects with that error. */
  predicate?: (event: QmpEvent<N>) => boolean;
  /** Aborting rejects with `signal.reason`. */
  signal?: AbortSignal;
}

export interface EventErrors {
  timeout: (event: string, timeoutMs: number) => Error;
  closed: (event: string) => Error;
}

/**
 * Fans events out to listeners, synchronously and in arrival order. A waiter is a listener
 * registered before `wait` returns, so it sees every event that arrives after the call.
 */
export class EventHub {
  readonly #listeners = new Set<(event: QmpEventMessage) => void>();
  readonly #onClose = new Set<() => void>();
  #closed = false;

  on(listener: (event: QmpEventMessage) => void): () => void {
    const entry = (event: QmpEventMessage): void => {
      listener(event);
    };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(event: QmpEventMessage): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A throwing listener is a bug: let it surface as an uncaught exception, after the others ran.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }

  wait<N extends QmpEventName>(name: N, options: WaitForEventOptions<N>, timeoutMs: number, errors: EventErrors): Promise<QmpEvent<N>> {
    const promise = new Promise<QmpEvent<N>>((resolve, reject) => {
      const { signal, predicate } = options;
      if (this.#closed) {
        reject(errors.closed(name));
        return;
      }
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      // The timer first: a bad timeout throws before anything is registered.
      const cancelTimer = startTimer(timeoutMs, () => {
        finish();
        reject(errors.timeout(name, timeoutMs));
      });
      const unsubscribe = this.on((event) => {
        if (!isQmpEvent(event, name)) return;
        let wanted: boolean;
        try {
          wanted = predicate === undefined || predicate(event);
        } catch (error) {
          finish(); // a throwing predicate fails its own wait, not the connection
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (!wanted) return;
        finish();
        resolve(event);
      });
      const onClose = (): void => {
        finish();
        reject(errors.closed(name));
      };
      const onAbort = (): void => {
        finish();
        reject(abortReason(signal));
      };
      const finish = (): void => {
        cancelTimer();
        unsubscribe();
        this.#onClose.delete(onClose);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#onClose.add(onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    // Callers often start a wait, then await a command; if the connection dies the command's
    // rejection is the one they see, so this one must not also crash the process as unhandled.
    promise.catch(() => undefined);
    return promise;
  }

  /** Rejects every waiter and refuses new ones; plain listeners are simply never called again. */
  close(): void {
    this.#closed = true;
    for (const onClose of [...this.#onClose]) onClose();
    this.#listeners.clear();
  }
}

/** The signal's reason when it is an Error (the default AbortError is one), else an AbortError carrying it. */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const error = new Error("The operation was aborted", { cause: reason });
  error.name = "AbortError";
  return error;
}
