import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { TestHome } from "./harness.ts";

/** Every entry under `dir` (symlinks not followed; the shared images link left out) with group/other bits. */
function exposed(home: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (dir === home && name === "images") continue;
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) continue; // a link's own mode means nothing on Linux
      if ((stat.mode & 0o077) !== 0) found.push(`${relative(home, path)} ${(stat.mode & 0o777).toString(8)}`);
      if (stat.isDirectory()) walk(path);
    }
  };
  if ((lstatSync(home).mode & 0o077) !== 0) found.push(". (the home)");
  walk(home);
  return found;
}

/** What the walk saw, to be sure it checked the sockets and state files, not an empty tree. */
function kinds(home: string, instance: string): string[] {
  return readdirSync(join(home, "instances", instance)).sort();
}

describe("modes", () => {
  let home: TestHome;
  before(() => {
    home = new TestHome();
  });
  after(async () => {
    await home.cleanup();
  });

  test("nothing snapvm or its QEMU makes is readable by group or others: create, start, live snapshot, fork, stop", async () => {
    await home.ok(["create", "m", "--memory", "256M", "--disk", "1G"]);
    assert.deepEqual(exposed(home.dir), [], "after create");
    await home.ok(["start", "m"]);
    await home.ok(["exec", "m", "--", "echo hello > /mnt/data/f; sync"]);
    await home.ok(["snapshot", "create", "m", "s1"]);
    await home.ok(["fork", "m@s1", "f"]);
    // The agent reports ready before its API listens; an exec waits for agent.sock.
    await home.ok(["exec", "f", "--", "cat /mnt/data/f"]);
    const running = kinds(home.dir, "f");
    for (const socket of ["agent.sock", "qmp.sock", "guest.sock", "console.sock"]) assert.ok(running.includes(socket), `${socket} in ${running.join(" ")}`);
    assert.deepEqual(exposed(home.dir), [], "while both run (sockets, logs, RAM files)");
    await home.ok(["stop", "f"]);
    await home.ok(["stop", "m"]);
    assert.ok(kinds(home.dir, "m").includes("suspend"), "a saved state to check");
    assert.deepEqual(exposed(home.dir), [], "after stop (suspend states)");
  });
});
