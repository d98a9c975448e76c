import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Slots } from "./launch-slots.ts";

describe("Slots", () => {
  it("lets `limit` holders in at once and the next waiter in, in order, as each releases", async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire().then((release) => {
      order.push("c");
      return release;
    });
    const d = slots.acquire().then((release) => {
      order.push("d");
      return release;
    });
    await Promise.resolve();
    assert.deepEqual(order, []);
    a();
    a(); // a second release of the same slot changes nothing
    const releaseC = await c;
    assert.deepEqual(order, ["c"]);
    b();
    const releaseD = await d;
    assert.deepEqual(order, ["c", "d"]);
    releaseC();
    releaseD();
    // All free again: two more get in at once.
    const e = await slots.acquire();
    const f = await slots.acquire();
    e();
    f();
  });

  it("refuses a limit below 1", () => {
    assert.throws(() => new Slots(0), /positive integer/);
  });
});
