import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { CLI, TestHome } from "./harness.ts";

const DETACH = "\x1d";

/** `snapvm shell NAME` with piped stdin; `output()` is everything it printed so far. */
function shell(home: TestHome, name: string): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number> } {
  const child = spawn(process.execPath, [CLI, "shell", name], { env: { ...process.env, SNAPVM_HOME: home.dir } });
  let text = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    text += d;
  });
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code) => {
      resolve(code ?? -1);
    }),
  );
  return { child, output: () => text, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Types a line until `marker` shows: the tiny guest's ash may drop a line typed while it redraws its
 * prompt (it asks the terminal for the cursor position, ESC[6n, and reads the reply from the same input).
 */
async function typeUntil(into: { child: ChildProcessWithoutNullStreams }, line: string, marker: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!marker()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the echo of ${line}`);
    into.child.stdin.write(`${line}\n`);
    for (let i = 0; i < 40 && !marker(); i++) await new Promise((r) => setTimeout(r, 50));
  }
}

describe("serial console through the agent", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("two `snapvm shell`s watch one console at once; typing in either works; the late one gets the scrollback; Ctrl-] detaches", async () => {
    await home.ok(["create", "con", "--memory", "256M"]);
    await home.ok(["start", "con"]);
    const first = shell(home, "con");
    const second = shell(home, "con");
    try {
      await typeUntil(first, "echo con-$((6*7))-first", () => first.output().includes("con-42-first"));
      await until("the second shell to see the first's command", () => second.output().includes("con-42-first"));
      await typeUntil(second, "echo con-$((6*8))-second", () => first.output().includes("con-48-second"));
      const late = shell(home, "con");
      await until("the scrollback", () => late.output().includes("con-48-second"));
      late.child.stdin.write(DETACH);
      assert.equal(await late.exited, 0);
    } finally {
      for (const s of [first, second]) s.child.stdin.end(DETACH);
    }
    assert.deepEqual(await Promise.all([first.exited, second.exited]), [0, 0]);
    // The console is still served after every viewer left.
    const again = shell(home, "con");
    await typeUntil(again, "echo con-$((7*7))-again", () => again.output().includes("con-49-again"));
    again.child.stdin.end(DETACH);
    assert.equal(await again.exited, 0);
    await home.ok(["delete", "--force", "con"]);
  });
});
