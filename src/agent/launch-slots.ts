/** A release function: gives the slot back; calling it again does nothing. */
export type Release = () => void;

/**
 * At most `limit` holders at once; the others wait in the order they asked. The agent of a fork group
 * holds one per instance from its bring-up until its QEMU answers QMP (agent/group.ts).
 */
export class Slots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a slot limit must be a positive integer, got ${limit}`);
  }

  async acquire(): Promise<Release> {
    if (this.held >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: `held` stays as it is.
      if (next === undefined) this.held--;
      else next();
    };
  }
}
