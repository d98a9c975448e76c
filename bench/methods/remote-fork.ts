// Remote fork figures: `snapvm fork ssh://A/…/NAME@TAG NEW --lazy` on host b next to copy-then-fork (the
// same without --lazy) and a local fork on host a, between the two namespaced test hosts
// (scripts/test-hosts.sh; needs root). Not a chain method: it needs two hosts, so it runs on its own:
//
//   npm run build && node --import tsx bench/methods/remote-fork.ts [--runs N] [--memory 256M] [--json FILE]
//
// Per run and way: the CLI's wall time (the fork command returns once the guest answers; the lazy fork
// returns once its RAM settled, and reports answeringMs: its guest's first answer, before the post-copy
// ends), and the RSS of the fork's QEMU 1 s, 5 s and 30 s after its QEMU appeared (the QEMU then serving
// it: a lazy fork's changes once its RAM settles from tmpfs into its file), and the peak. The guest is
// idle, with 40 MB of random data in its tmpfs (RAM) made before the snapshot.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { MigrationHosts, type Host } from "../../test/vm/migrate-hosts.ts";
import { median } from "../stats.ts";

const SOURCE = "rfb-src";
const TAG = "warm";
const SAMPLE_AT_S = [1, 5, 30] as const;

interface Rss {
  rssKiB: number;
  anonKiB: number;
  fileKiB: number;
  shmemKiB: number;
}

interface Row {
  way: "local fork" | "remote lazy fork" | "remote lazy fork, layer here" | "copy then fork";
  run: number;
  wallMs: number;
  answeringMs: number;
  rss: (Rss | undefined)[];
  /** The highest RSS seen in the first 30 s of its QEMU(s). */
  peakKiB: number;
}

/** The QEMU whose command line names this instance's directory on that host, if one runs. */
function qemuOf(hosts: MigrationHosts, host: Host, name: string): number | undefined {
  const marker = `${hosts.home(host)}/instances/${name}/`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith("qemu-system") && cmdline.includes(marker)) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

function rssOf(pid: number | undefined): Rss | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rssKiB: field("VmRSS"), anonKiB: field("RssAnon"), fileKiB: field("RssFile"), shmemKiB: field("RssShmem") };
  } catch {
    return undefined;
  }
}

/**
 * Runs `snapvm ARGS --json` on `host` and samples the RSS of `name`'s QEMU every 100 ms: the figures are
 * at SAMPLE_AT_S after its first QEMU appeared (for a lazy fork the incoming one; after its RAM settles,
 * the one that maps its file), and the peak over those 30 s.
 */
async function measure(hosts: MigrationHosts, host: Host, name: string, args: readonly string[], way: Row["way"], run: number): Promise<Row> {
  const started = performance.now();
  const state = { finished: false };
  const command = hosts.ok(host, [...args, "--json"]).then(
    (stdout) => ({ stdout, wallMs: performance.now() - started }),
    (error: unknown) => {
      state.finished = true;
      throw error;
    },
  );
  command.catch(() => undefined);
  const samples: { at: number; rss: Rss | undefined }[] = [];
  let appeared: number | undefined;
  const lastAt = SAMPLE_AT_S[SAMPLE_AT_S.length - 1] ?? 30;
  while (!state.finished && (appeared === undefined || performance.now() - appeared <= lastAt * 1000 + 200)) {
    const rss = rssOf(qemuOf(hosts, host, name));
    if (rss !== undefined) appeared ??= performance.now();
    if (appeared !== undefined) samples.push({ at: performance.now() - appeared, rss });
    if (appeared === undefined && performance.now() - started > 120_000) break;
    await sleep(100);
  }
  const rss = SAMPLE_AT_S.map((at) => samples.find((s) => s.at >= at * 1000)?.rss);
  const peakKiB = Math.max(...samples.map((s) => s.rss?.rssKiB ?? 0));
  const { stdout, wallMs } = await command;
  const result = JSON.parse(stdout) as { answeringMs?: number };
  return { way, run, wallMs, answeringMs: result.answeringMs ?? wallMs, rss, peakKiB };
}

function mib(kib: number | undefined): string {
  return kib === undefined || Number.isNaN(kib) ? "-" : (kib / 1024).toFixed(0);
}

function spread(values: readonly number[], format: (v: number) => string): string {
  if (values.length === 0) return "-";
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, memory: { type: "string", default: "256M" }, json: { type: "string" } } });
  const runs = Number.parseInt(values.runs, 10);
  const hosts = new MigrationHosts(process.env["SNAPVM_TEST_HOSTS_PREFIX"] ?? "rfbench", process.env["SNAPVM_TEST_HOSTS_DIR"] ?? "/tmp/rfbench-hosts");
  const rows: Row[] = [];
  try {
    await hosts.up();
    await hosts.ok("a", ["create", SOURCE, "--memory", values.memory]);
    await hosts.ok("a", ["start", SOURCE]);
    await hosts.exec("a", SOURCE, "head -c 40000000 /dev/urandom > /tmp/ram.bin && sync");
    await hosts.ok("a", ["snapshot", "create", SOURCE, TAG]);
    const url = `${hosts.dest("a")}/${SOURCE}@${TAG}`;
    for (let run = 1; run <= runs; run++) {
      rows.push(await measure(hosts, "a", `loc${run}`, ["fork", `${SOURCE}@${TAG}`, `loc${run}`], "local fork", run));
      await hosts.ok("a", ["delete", "--force", `loc${run}`]);
      rows.push(await measure(hosts, "b", `lazy${run}`, ["fork", url, `lazy${run}`, "--lazy"], "remote lazy fork", run));
      // The second one finds the snapshot's disk layer in the first by its digest.
      rows.push(await measure(hosts, "b", `lazyb${run}`, ["fork", url, `lazyb${run}`, "--lazy"], "remote lazy fork, layer here", run));
      await hosts.ok("b", ["delete", "--force", `lazy${run}`]);
      await hosts.ok("b", ["delete", "--force", `lazyb${run}`]);
      rows.push(await measure(hosts, "b", `copy${run}`, ["fork", url, `copy${run}`], "copy then fork", run));
      await hosts.ok("b", ["delete", "--force", `copy${run}`]);
      // Copy-then-fork copies again next run: its template goes.
      await hosts.ok("b", ["delete", "--force", `${SOURCE}-${TAG}`]);
      process.stderr.write(`run ${run} of ${runs} done\n`);
    }
  } finally {
    await hosts.down();
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const lines = [
    `guest ${values.memory}, idle, 40 MB random in tmpfs; ${runs} runs; load average at the end ${load}`,
    "| way | CLI wall to answering, ms | guest answering, ms | QEMU RSS 1 s after it started, MiB | 5 s | 30 s | peak in 30 s |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const way of ["local fork", "remote lazy fork", "remote lazy fork, layer here", "copy then fork"] as const) {
    const mine = rows.filter((r) => r.way === way);
    const rssAt = (i: number): string =>
      spread(
        mine.map((r) => r.rss[i]?.rssKiB).filter((v): v is number => v !== undefined && !Number.isNaN(v)),
        (v) => mib(v),
      );
    lines.push(
      `| ${way} | ${spread(
        mine.map((r) => r.wallMs),
        (v) => v.toFixed(0),
      )} | ${spread(
        mine.map((r) => r.answeringMs),
        (v) => v.toFixed(0),
      )} | ${rssAt(0)} | ${rssAt(1)} | ${rssAt(2)} | ${spread(
        mine.map((r) => r.peakKiB),
        (v) => mib(v),
      )} |`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ load, rows }, null, 2));
}

await main();
