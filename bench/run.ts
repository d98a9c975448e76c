import { availableParallelism, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseOptions, USAGE, type CliOptions } from "./args.ts";
import { runBootPhase } from "./boot-phase.ts";
import { runChain } from "./chain.ts";
import { BenchHome } from "./home.ts";
import { canDropCaches } from "./host.ts";
import { machineFacts } from "./machine.ts";
import { CHAIN_METHODS } from "./methods/index.ts";
import { runMigrationPhase, type MigrationRecord } from "./methods/migrate.ts";
import { checkMigrationTargets } from "./methods/migrate-report.ts";
import { runCloudGuest, type CloudGuestRecord } from "./methods/cloud-guest.ts";
import { renderTables } from "./report/table.ts";
import { checkTargets } from "./report/targets.ts";
import { summarizeRuns } from "./report/summary.ts";
import { writeResults } from "./report/write.ts";
import type { BenchResults, RunRecord, WorkloadRecord } from "./results.ts";

const started = performance.now();
function log(line: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Everything measured, in one home that is removed at the end whatever happens (Ctrl-C included). */
/** Between `stop` and `start` of the cloud guest: the guest's clock falls that far behind. */
const CLOUD_GAP_MS = 10_000;

interface Measured {
  runs: RunRecord[];
  workload: WorkloadRecord[];
  migrations?: MigrationRecord[];
  cloudGuest?: { gapMs: number; records: CloudGuestRecord[] };
}

async function measure(options: CliOptions, home: BenchHome, notes: string[]): Promise<Measured> {
  const runs: RunRecord[] = [];
  const workload: WorkloadRecord[] = [];
  const chained = CHAIN_METHODS.some(([id]) => options.methods.includes(id));
  const note = (line: string): void => {
    notes.push(line);
    log(line);
  };
  for (const size of options.sizes) {
    if (options.methods.includes("cold-boot") || options.ramBacking) {
      try {
        const phase = await runBootPhase({
          home,
          size,
          runs: options.runs,
          warm: options.warm,
          coldBoot: options.methods.includes("cold-boot"),
          workload: options.ramBacking,
          log,
        });
        runs.push(...phase.runs);
        workload.push(...phase.workload);
      } catch (error) {
        note(`${size.label} cold boots / RAM-backing workload failed: ${message(error)}`);
      }
    }
    for (const dataCase of chained ? options.cases : []) {
      try {
        runs.push(
          ...(await runChain({
            home,
            size,
            dataCase,
            runs: options.runs,
            warm: options.warm,
            methods: options.methods,
            multifdChannels: availableParallelism(),
            idleCpuS: options.idleCpuS,
            log,
            note,
          })),
        );
      } catch (error) {
        note(`${size.label} ${dataCase}: the guest could not be set up: ${message(error)}`);
      }
    }
  }
  const measured: Measured = { runs, workload };
  if (options.methods.includes("snapvm-migrate")) {
    // Its own two hosts and guests (scripts/test-hosts.sh), torn down inside; not part of a chain.
    const migration = await runMigrationPhase({ sizes: options.sizes, runs: options.runs, log });
    for (const line of migration.notes) note(line);
    measured.migrations = migration.records;
  }
  if (options.methods.includes("cloud-guest")) {
    try {
      const records = await runCloudGuest({ home, runs: options.runs, gapMs: CLOUD_GAP_MS, ssh: true, log });
      measured.cloudGuest = { gapMs: CLOUD_GAP_MS, records };
    } catch (error) {
      note(`the cloud guest could not be measured: ${message(error)}`);
    }
  }
  return measured;
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${message(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const startedAt = new Date().toISOString();
  const home = new BenchHome();
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping every VM and removing ${home.dir}`);
    void home.cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const notes: string[] = [];
  if (!options.warm && !canDropCaches()) {
    options.warm = true;
    notes.push("the page cache could not be dropped (not root?): every restore ran with a warm cache");
  }
  for (const note of notes) log(note);
  const machine = await machineFacts(home.dir);
  log(
    `${options.sizes.map((s) => s.label).join(", ")} × ${options.cases.join(", ")}, ${options.runs} run(s), ${machine.cores} cores, ${machine.accel}, load ${machine.loadAverageStart.toFixed(2)}; home ${home.dir}`,
  );

  let measured: Measured;
  try {
    measured = await measure(options, home, notes);
  } finally {
    await home.cleanup();
  }
  const results: BenchResults = {
    formatVersion: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    durationS: (performance.now() - started) / 1000,
    options: { sizes: options.sizes, cases: options.cases, runs: options.runs, warm: options.warm, methods: options.methods, quick: options.quick },
    machine: { ...machine, loadAverageEnd: loadavg()[0] ?? Number.NaN },
    notes,
    ...measured,
  };
  const tables = renderTables(results);
  const targets = [...checkTargets(summarizeRuns(results.runs), options.cases), ...checkMigrationTargets(results.migrations ?? [])]
    .map((t) => `- ${t.verdict} ${t.text}`)
    .join("\n");
  const written = writeResults(results, tables, `Targets (this run):\n${targets}`, resolve(options.out ?? resolve(import.meta.dirname, "results")));
  process.stdout.write(`${tables}\n\nTargets (this run):\n${targets}\n\n${notes.map((n) => `Note: ${n}\n`).join("")}`);
  log(`done in ${results.durationS.toFixed(0)} s: ${[written.json, written.markdown, written.svg, written.png].filter((p) => p !== undefined).join(", ")}`);
  for (const note of written.notes) log(note);
  const failed =
    results.runs.some((r) => r.error !== undefined || r.check?.ok === false) || results.cloudGuest?.records.some((r) => r.error !== undefined) === true;
  return failed ? 1 : 0;
}

process.exitCode = await main();
