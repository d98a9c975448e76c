/**
 * The main job README.md opens with: boot a VM, write to its memory, suspend it to disk, resume it,
 * check the memory came back, and print the figures. Drives the built CLI exactly as a user would.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const cli = resolve(import.meta.dirname, "../dist/bin/snapvm.js");
const name = `demo-${process.pid}`;

function snapvm(args: string[]): { out: string; ms: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`snapvm ${args.join(" ")} failed:\n${result.stderr}${result.stdout}`);
  return { out: result.stdout, ms };
}

function json(args: string[]): { value: unknown; ms: number } {
  const { out, ms } = snapvm([...args, "--json"]);
  return { value: JSON.parse(out) as unknown, ms };
}

interface Start {
  status: { bootKind: string; readyMs: number };
}
interface Stop {
  save?: { pauseMs: number; stateBytes: number };
}

const rows: [string, string][] = [];
const fmt = (ms: number): string => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);
try {
  snapvm(["create", name, "--memory", "512M", "--disk", "1G"]);
  const cold = json(["start", name]);
  rows.push(["cold boot (snapvm start → guest answering)", fmt(cold.ms)]);
  const exec = snapvm(["exec", name, "--", "uname", "-r"]);
  rows.push([`snapvm exec uname -r (${exec.out.trim()})`, fmt(exec.ms)]);
  const before = snapvm(["exec", name, "--", "dd if=/dev/urandom of=/tmp/data bs=1M count=128 2>/dev/null && md5sum /tmp/data"]).out.trim();
  const save = json(["stop", name]) as { value: Stop; ms: number };
  rows.push(["suspend: guest paused (stop → state durable)", fmt(save.value.save?.pauseMs ?? Number.NaN)]);
  rows.push(["suspend: snapvm stop, end to end", fmt(save.ms)]);
  rows.push(["suspend: state on disk (allocated)", `${((save.value.save?.stateBytes ?? 0) / 1048576).toFixed(0)} MiB`]);
  const resume = json(["start", name]) as { value: Start; ms: number };
  if (resume.value.status.bootKind !== "restore") throw new Error("the VM cold-booted instead of resuming");
  rows.push(["resume (snapvm start → guest answering)", fmt(resume.ms)]);
  const after = snapvm(["exec", name, "--", "md5sum /tmp/data"]).out.trim();
  rows.push(["128 MiB of random guest memory intact after resume", after === before ? "yes" : `NO (${before} vs ${after})`]);
  snapvm(["stop", "--no-save", name]);
} finally {
  spawnSync(process.execPath, [cli, "delete", "--force", name], { stdio: "ignore" });
}
const width = Math.max(...rows.map(([label]) => label.length));
console.log(`\nsnapvm main job (${name}, 512 MiB guest, TCG here)\n`);
for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
if (rows.some(([, value]) => value.startsWith("NO"))) process.exitCode = 1;
