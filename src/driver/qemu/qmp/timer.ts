/** Largest delay setTimeout honours; longer ones fire after 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `onExpire` after `ms` and returns the cancel function. `Infinity` arms nothing.
 * Every timer here MUST be cancelled when its operation settles, so a process never waits on it.
 */
export function startTimer(ms: number, onExpire: () => void): () => void {
  if (Number.isNaN(ms) || ms < 0) throw new RangeError(`timeout must be a non-negative number of ms, got ${ms}`);
  if (ms === Number.POSITIVE_INFINITY) return () => undefined;
  const timer = setTimeout(onExpire, Math.min(ms, MAX_DELAY_MS));
  return () => {
    clearTimeout(timer);
  };
}

/** Settles like `promise`, or rejects with `onTimeout()` after `ms`; the timer never outlives the race. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let cancel = (): void => undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    cancel = startTimer(ms, () => {
      reject(onTimeout());
    });
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    cancel();
  }
}
