import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSnapvmError } from "../errors/index.ts";
import { acquireLock } from "./lock.ts";

/** The pid of a process that has exited: a lock naming it is stale. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout.trim();
  return Number(pid);
}

/** Reads the lock over and over while `busy` runs; every read is "no lock" or a whole pid. */
async function whileWatching<T>(path: string, busy: () => Promise<T>): Promise<{ result: T; badReads: string[] }> {
  const badReads: string[] = [];
  const state = { stop: false };
  const watcher = (async () => {
    while (!state.stop) {
      try {
        const text = readFileSync(path, "utf8");
        if (!/^[1-9][0-9]*$/.test(text)) badReads.push(JSON.stringify(text));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  try {
    return { result: await busy(), badReads };
  } finally {
    state.stop = true;
    await watcher;
  }
}

describe("instance lock", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "snapvm-lock-test-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("many concurrent takers, free or stale lock: exactly one wins each round, no one reads an empty pid", async () => {
    const path = join(dir, "agent.lock");
    const dead = deadPid();
    for (let round = 0; round < 100; round++) {
      if (round % 2 === 1) writeFileSync(path, String(dead)); // a stale lock left by a dead agent
      const { result, badReads } = await whileWatching(path, () => Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(path, "x"))));
      const won = result.filter((r) => r.status === "fulfilled");
      assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
      for (const r of result) if (r.status === "rejected") assert.ok(isSnapvmError(r.reason, "E_INSTANCE_LOCKED"), String(r.reason));
      assert.deepEqual(badReads, [], `round ${round}`);
      assert.equal(readFileSync(path, "utf8"), String(process.pid));
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
      assert.deepEqual(readdirSync(dir), [], `round ${round}: the lock and every private sibling are gone`);
    }
  });

  it("two processes released together: one wins; its lock goes stale when it exits and the next round breaks it", async () => {
    const path = join(dir, "proc.lock");
    // Each child loads the lock code, says "ready", waits for "go", tries, says what happened, and
    // holds the outcome until its stdin closes, so both tries overlap and neither sees the other exit.
    const script = `import { acquireLock } from ${JSON.stringify(new URL("./lock.ts", import.meta.url).href)};
      import { createInterface } from "node:readline";
      const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
      console.log("ready");
      await lines.next();
      try { await acquireLock(process.argv[1], "x"); console.log("won"); } catch (e) { console.log(e.code ?? String(e)); }
      await lines.next();`;
    const child = (): { ready: Promise<void>; outcome: Promise<string>; go(): void; end(): void; exited: Promise<void> } => {
      const proc = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, path], { stdio: ["pipe", "pipe", "inherit"] });
      const lines: string[] = [];
      const waiters: (() => void)[] = [];
      proc.stdout.setEncoding("utf8").on("data", (text: string) => {
        lines.push(...text.split("\n").filter(Boolean));
        for (const w of waiters.splice(0)) w();
      });
      const line = (i: number): Promise<string> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (lines[i] !== undefined) resolve(lines[i]);
            else waiters.push(check);
          };
          check();
        });
      return {
        ready: line(0).then(() => undefined),
        outcome: line(1),
        go: () => {
          proc.stdin.write("go\n");
        },
        end: () => {
          proc.stdin.end();
        },
        exited: new Promise((resolve) => {
          proc.once("close", () => {
            resolve();
          });
        }),
      };
    };
    for (let round = 0; round < 6; round++) {
      const pair = [child(), child()];
      await Promise.all(pair.map((c) => c.ready));
      for (const c of pair) c.go();
      const outcomes = (await Promise.all(pair.map((c) => c.outcome))).sort();
      for (const c of pair) c.end();
      await Promise.all(pair.map((c) => c.exited));
      assert.deepEqual(outcomes, ["E_INSTANCE_LOCKED", "won"], `round ${round}`);
      assert.match(readFileSync(path, "utf8"), /^[1-9][0-9]*$/, "the winner's pid, now dead: stale");
    }
  });
});
