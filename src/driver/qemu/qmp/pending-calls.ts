import { startTimer } from "./timer.ts";

interface PendingCall {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  cancelTimer: () => void;
}

/**
 * Commands in flight, keyed by the numeric id sent with each. Each call settles exactly once:
 * by its reply, its timeout, or `rejectAll` when the connection closes.
 */
export class PendingCalls {
  readonly #calls = new Map<number, PendingCall>();
  #nextId = 1;

  get size(): number {
    return this.#calls.size;
  }

  add(command: string, timeoutMs: number, timeoutError: () => Error): { id: number; promise: Promise<unknown> } {
    const id = this.#nextId++;
    let rejectCall: (error: Error) => void = () => undefined;
    // Armed before the promise so a bad timeout throws here, before anything is sent.
    const cancelTimer = startTimer(timeoutMs, () => {
      this.#calls.delete(id);
      rejectCall(timeoutError());
    });
    const promise = new Promise<unknown>((resolve, reject) => {
      rejectCall = reject;
      this.#calls.set(id, { command, resolve, reject, cancelTimer });
    });
    return { id, promise };
  }

  /** Settles the call a reply belongs to; false when no call waits for that id (e.g. it timed out). */
  resolve(id: unknown, value: unknown): boolean {
    const call = this.#take(id);
    call?.resolve(value);
    return call !== undefined;
  }

  reject(id: unknown, makeError: (command: string) => Error): boolean {
    const call = this.#take(id);
    call?.reject(makeError(call.command));
    return call !== undefined;
  }

  rejectAll(makeError: (command: string) => Error): void {
    for (const id of [...this.#calls.keys()]) this.reject(id, makeError);
  }

  #take(id: unknown): PendingCall | undefined {
    if (typeof id !== "number") return undefined;
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    call.cancelTimer();
    return call;
  }
}
