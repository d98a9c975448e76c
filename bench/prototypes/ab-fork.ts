// A/B of `snapvm fork --count N` between builds, alternating, in one throwaway home each:
//   node --import tsx bench/prototypes/ab-fork.ts N ROUNDS [VAR=VALUE@]CLI_A [VAR=VALUE@]CLI_B ...
// (VAR=VALUE@ sets one environment variable for that build's commands and the agents they spawn).
// Prints per round and build: the fork command's wall time, and the time until every fork answered
// `echo ok` through its /v1 socket (from the fork command's start).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AgentClient } from "../../src/api/client.ts";
import { instancePaths, parseInstanceName } from "../../src/paths/index.ts";

const run = promisify(execFile);
const [countArg, roundsArg, ...builds] = process.argv.slice(2);
const clis = builds.map((b) => b.slice(b.indexOf("@") + 1));
const envs = builds.map((b): Record<string, string> => {
  const at = b.indexOf("@");
  if (at < 0) return {};
  const [name = "", value = ""] = b.slice(0, at).split("=");
  return { [name]: value };
});
const count = Number(countArg ?? "16");
const rounds = Number(roundsArg ?? "2");

async function cli(script: string, home: string, args: string[]): Promise<string> {
  const env = envs[clis.indexOf(script)] ?? {};
  const { stdout } = await run(process.execPath, [script, ...args], { env: { ...process.env, ...env, SNAPVM_HOME: home }, maxBuffer: 64 * 2 ** 20 });
  return stdout;
}

const homes = clis.map(() => mkdtempSync(join(tmpdir(), "snapvm-ab-")));
try {
  for (const [i, script] of clis.entries()) {
    const home = homes[i] ?? "";
    symlinkSync(join(homedir(), ".snapvm", "images"), join(home, "images"));
    await cli(script, home, ["create", "src", "--memory", "256M", "--disk", "1G"]);
    await cli(script, home, ["start", "src"]);
    await cli(script, home, ["snapshot", "create", "src", "s1"]);
    await cli(script, home, ["stop", "src"]);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const [i, script] of clis.entries()) {
      const home = homes[i] ?? "";
      const t0 = performance.now();
      await cli(script, home, ["fork", "src@s1", "f", "--count", String(count), "--json"]);
      const t1 = performance.now();
      const names = count === 1 ? ["f"] : Array.from({ length: count }, (_, k) => `f-${k + 1}`);
      await Promise.all(
        names.map((name) => new AgentClient(instancePaths(parseInstanceName(name), home).agentSocket, name).exec({ command: "echo ok", timeoutMs: 120_000 })),
      );
      const t2 = performance.now();
      console.log(`round ${round} ${builds[i] ?? script}: fork ${((t1 - t0) / 1000).toFixed(2)} s, all answering ${((t2 - t0) / 1000).toFixed(2)} s`);
      await Promise.all(names.map((name) => cli(script, home, ["delete", "--force", name])));
    }
  }
} finally {
  for (const [i, script] of clis.entries()) {
    const home = homes[i] ?? "";
    await cli(script, home, ["list", "--json"])
      .then((text) => Promise.all((JSON.parse(text) as { name: string }[]).map((x) => cli(script, home, ["delete", "--force", x.name]).catch(() => ""))))
      .catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
