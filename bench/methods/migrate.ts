import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { GuestSize } from "../results.ts";
import { BenchHosts, type Host } from "./migrate-hosts.ts";

export const MIGRATION_LOADS = ["idle", "busy"] as const;
export type MigrationLoad = (typeof MIGRATION_LOADS)[number];
export const MIGRATION_MODES = ["precopy", "postcopy"] as const;
export type MigrationMode = (typeof MIGRATION_MODES)[number];

/** The busy guest's writer: 4 MiB of random data rewritten into a 64 MiB tmpfs file every 250 ms. */
export const WRITER_MIB = 4;
export const WRITER_PERIOD_MS = 250;
const WRITER_SLOTS = 16;
/** What `--json` of `snapvm migrate` says (src/instance/migrate/send.ts, MigrateResult). */
interface MigrateJson {
  downtimeMs: number;
  sourceDowntimeMs: number;
  answeringMs?: number;
  totalMs: number;
  bytes: number;
  diskBytes: number;
  mode: MigrationMode;
  ramSettle?: { pauseMs: number; copiedBytes: number };
}

/** One `snapvm migrate` between the two namespaced hosts, raw. */
export interface MigrationRecord {
  size: GuestSize;
  load: MigrationLoad;
  mode: MigrationMode;
  run: number;
  from: Host;
  /** From the guest's stop on the source (QEMU's STOP event) to its RESUME on the destination. */
  downtimeMs?: number;
  /** QEMU's own figure on the source: its stop to the end of its stream. */
  sourceDowntimeMs?: number;
  /** From the stop on the source to the guest answering its agent on the destination. */
  answeringMs?: number;
  totalMs?: number;
  /** RAM stream and disk mirror bytes. */
  bytes?: number;
  diskBytes?: number;
  /** Post-copy: the pause that puts the RAM back from tmpfs into the instance's file afterwards. */
  ramSettlePauseMs?: number;
  /** Busy guests: the writer's rate over the migration, from its round counter (MiB/s). */
  dirtyMiBps?: number;
  loadAverage: number;
  error?: string;
}

export interface MigrationPhaseOptions {
  sizes: readonly GuestSize[];
  runs: number;
  log: (line: string) => void;
}

function other(host: Host): Host {
  return host === "a" ? "b" : "a";
}

/** A shell loop in the guest: WRITER_MIB of random data into one of WRITER_SLOTS slots of /tmp/busy.bin per round; /tmp/count counts rounds. */
const WRITER =
  `head -c ${WRITER_MIB * 1048576} /dev/urandom > /tmp/blk && ` +
  `(i=0; while true; do dd if=/tmp/blk of=/tmp/busy.bin bs=1048576 count=${WRITER_MIB} seek=$(( (i % ${WRITER_SLOTS}) * ${WRITER_MIB} )) conv=notrunc 2>/dev/null; ` +
  `i=$((i+1)); echo $i > /tmp/count; usleep ${WRITER_PERIOD_MS * 1000}; done) >/dev/null 2>&1 & echo started`;

/** A quarter of the guest's RAM in tmpfs, so that moving it has something to send (a 4 MiB random block repeated: the stream does not compress). */
function fillCommand(size: GuestSize): string {
  const blocks = Math.max(1, Math.floor(size.bytes / 4 / (4 * 1048576)));
  return `mount -o remount,size=90% /tmp && head -c 4194304 /dev/urandom > /tmp/fblk && for i in $(seq ${blocks}); do cat /tmp/fblk; done > /tmp/fill.bin && rm /tmp/fblk && echo filled`;
}

async function writerRounds(hosts: BenchHosts, host: Host, name: string): Promise<number | undefined> {
  const text = await hosts.exec(host, name, "cat /tmp/count").catch(() => "");
  const rounds = Number.parseInt(text, 10);
  return Number.isFinite(rounds) ? rounds : undefined;
}

/** Moves `name` from `from` to the other host, then deletes the stopped record it leaves behind. */
async function migrateOnce(hosts: BenchHosts, name: string, from: Host, mode: MigrationMode): Promise<MigrateJson> {
  const to = other(from);
  const r = await hosts.run(from, ["migrate", name, hosts.dest(to), "--json", ...(mode === "postcopy" ? ["--postcopy"] : [])]);
  if (r.code !== 0) throw new Error(`migrate ${from}→${to} exited ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 400)}`);
  await hosts.ok(from, ["delete", "--force", name]);
  return JSON.parse(r.stdout) as MigrateJson;
}

/**
 * The migration rows: per guest size, one guest on host a with a quarter of its RAM filled, moved
 * back and forth between the two namespaced hosts (scripts/test-hosts.sh; needs root) `runs` times
 * per load (idle, then with the writer running) and mode (pre-copy, post-copy). The hosts are torn
 * down whatever happens.
 */
export async function runMigrationPhase(options: MigrationPhaseOptions): Promise<{ records: MigrationRecord[]; notes: string[] }> {
  const records: MigrationRecord[] = [];
  const notes: string[] = [];
  if (process.getuid?.() !== 0) return { records, notes: ["migration rows skipped: the two test hosts (network namespaces) need root"] };
  const hosts = new BenchHosts();
  try {
    await hosts.up();
    for (const size of options.sizes) {
      const name = `mig-${size.label.toLowerCase()}`;
      let at: Host = "a";
      try {
        await hosts.ok("a", ["create", name, "--memory", size.label]);
        await hosts.ok("a", ["start", name]);
        await hosts.exec("a", name, fillCommand(size));
        for (const load of MIGRATION_LOADS) {
          if (load === "busy") {
            await hosts.exec(at, name, WRITER);
            await sleep(2000);
          }
          for (const mode of MIGRATION_MODES) {
            for (let run = 1; run <= options.runs; run++) {
              const from = at;
              const record: MigrationRecord = { size, load, mode, run, from, loadAverage: loadavg()[0] ?? Number.NaN };
              const roundsBefore = load === "busy" ? await writerRounds(hosts, from, name) : undefined;
              const started = performance.now();
              try {
                const result = await migrateOnce(hosts, name, from, mode);
                at = other(from);
                Object.assign(record, {
                  downtimeMs: result.downtimeMs,
                  sourceDowntimeMs: result.sourceDowntimeMs,
                  totalMs: result.totalMs,
                  bytes: result.bytes,
                  diskBytes: result.diskBytes,
                  ...(result.answeringMs === undefined ? {} : { answeringMs: result.answeringMs }),
                  ...(result.ramSettle === undefined ? {} : { ramSettlePauseMs: result.ramSettle.pauseMs }),
                });
                if (roundsBefore !== undefined) {
                  const roundsAfter = await writerRounds(hosts, at, name);
                  const seconds = (performance.now() - started) / 1000;
                  if (roundsAfter !== undefined) record.dirtyMiBps = ((roundsAfter - roundsBefore) * WRITER_MIB) / seconds;
                }
                options.log(
                  `migrate ${size.label} ${load} ${mode} #${run} ${from}→${at}: downtime ${result.downtimeMs.toFixed(0)} ms, total ${result.totalMs.toFixed(0)} ms` +
                    (result.answeringMs === undefined ? "" : `, answering ${result.answeringMs.toFixed(0)} ms`),
                );
              } catch (error) {
                record.error = error instanceof Error ? error.message : String(error);
                options.log(`migrate ${size.label} ${load} ${mode} #${run}: ${record.error}`);
              }
              records.push(record);
              // A failed move leaves the guest where it was (pre-copy) or unknown: stop this size then.
              if (record.error !== undefined) {
                const state = await hosts.run(from, ["info", name, "--json"]);
                if (state.code !== 0 || !state.stdout.includes('"running"')) throw new Error(`the guest is not running on ${from} after a failed migration`);
              }
            }
          }
        }
      } catch (error) {
        const note = `${size.label} migrations stopped: ${error instanceof Error ? error.message : String(error)}`;
        notes.push(note);
        options.log(note);
      } finally {
        for (const host of ["a", "b"] as const) await hosts.run(host, ["delete", "--force", name]).catch(() => undefined);
      }
    }
  } catch (error) {
    notes.push(`migration rows: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await hosts.down().catch((error: unknown) => {
      notes.push(`the bench's test hosts could not be taken down: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  return { records, notes };
}
