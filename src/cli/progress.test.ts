import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { progressPrinter, type ProgressStream } from "./progress.ts";

function fakeStream(isTTY: boolean): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return {
    isTTY,
    out,
    write: (text) => {
      out.push(text);
      return true;
    },
  };
}

describe("progressPrinter", () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 0;
    mock.timers.enable({ apis: ["setInterval"] });
  });
  afterEach(() => {
    mock.timers.reset();
  });

  it("redraws the step on a timer so the elapsed time advances, and stops on done", () => {
    const stream = fakeStream(true);
    const progress = progressPrinter("dev", { stream, now, intervalMs: 100 });
    progress.step("saving the state");
    assert.deepEqual(stream.out, ["\r\x1b[2Kdev: saving the state… 0.0s"]);
    clock = 700;
    mock.timers.tick(100);
    clock = 1300;
    mock.timers.tick(100);
    assert.deepEqual(stream.out.slice(1), ["\r\x1b[2Kdev: saving the state… 0.7s", "\r\x1b[2Kdev: saving the state… 1.3s"]);
    progress.done();
    assert.equal(stream.out.at(-1), "\r\x1b[2K");
    const written = stream.out.length;
    clock = 5000;
    mock.timers.tick(1000);
    progress.done();
    assert.equal(stream.out.length, written, "nothing after done, and done is idempotent");
  });

  it("keeps one timer across steps and redraws the step after a notice", () => {
    const stream = fakeStream(true);
    const progress = progressPrinter("dev", { stream, now, intervalMs: 100 });
    progress.step("one");
    progress.step("two");
    clock = 200;
    mock.timers.tick(100);
    assert.deepEqual(stream.out.slice(2), ["\r\x1b[2Kdev: two… 0.2s"]);
    progress.notice("config changed");
    assert.deepEqual(stream.out.slice(3), ["\r\x1b[2K", "snapvm: config changed\n", "\r\x1b[2Kdev: two… 0.2s"]);
    progress.done();
  });

  it("writes nothing when the stream is not a terminal, except notices", () => {
    const stream = fakeStream(false);
    const progress = progressPrinter("dev", { stream, now, intervalMs: 100 });
    progress.step("saving the state");
    clock = 1000;
    mock.timers.tick(1000);
    progress.done();
    assert.deepEqual(stream.out, []);
    progress.notice("kept");
    assert.deepEqual(stream.out, ["snapvm: kept\n"]);
  });
});
