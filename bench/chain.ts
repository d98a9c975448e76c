import { measureFanOuts } from "./fan-out.ts";
import { checksumMemory, dirtyMemory, redirtyMemory, type DataCase } from "./guest-workload.ts";
import { convertGuest } from "./guest/convert.ts";
import { qemuPidOf, type RunningGuest } from "./guest/running.ts";
import type { BenchHome } from "./home.ts";
import { dropCaches, memoryOf } from "./host.ts";
import type { MethodId } from "./methods/catalog.ts";
import { CHAIN_METHODS } from "./methods/index.ts";
import { agentGuest, answerThroughAgent } from "./methods/snapvm-common.ts";
import type { SuspendMethod } from "./methods/types.ts";
import type { GuestSize, RunRecord } from "./results.ts";
import { measureTransfers } from "./transfer-phase.ts";
import type { InstanceStatus } from "../src/store/status.ts";

export interface ChainOptions {
  home: BenchHome;
  size: GuestSize;
  dataCase: DataCase;
  runs: number;
  warm: boolean;
  methods: readonly MethodId[];
  multifdChannels: number;
  /** Seconds of idle CPU measured after each ×16 fork fan-out; 0: none. */
  idleCpuS: number;
  log: (line: string) => void;
  /** What the run's notes must say (a fan-out that could not run, a cleanup that failed); also logged. */
  note: (line: string) => void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One guest, one dirtied memory, every method: snapvm cold-boots the guest, half its RAM is dirtied
 * and checksummed, then each method in turn saves and restores that same running guest `runs` times
 * (the data rewritten unchanged before each save, the page cache dropped before each restore) and
 * the checksums are compared after every restore. A fork method instead forks the guest, which runs
 * on, into each of its fan-outs (fan-out.ts); a transfer method exports its state, which it imports
 * back elsewhere and checks there (transfer-phase.ts).
 * A failure ends the chain (the guest may be gone); the methods after it are recorded as not run.
 */
export async function runChain(options: ChainOptions): Promise<RunRecord[]> {
  const { home, size, dataCase } = options;
  const name = `c${Math.round(size.bytes / 2 ** 20)}${dataCase[0] ?? "x"}`;
  const records: RunRecord[] = [];
  const base = { size, dataCase } as const;
  let guest: RunningGuest | undefined;
  try {
    await home.cliJson(["create", name, "--memory", size.label, "--disk", "1G"]);
    if (!options.warm) dropCaches();
    const started = performance.now();
    const { status } = (await home.cliJson(["start", name])).value as { status: InstanceStatus };
    guest = agentGuest(home, name, status);
    records.push({
      ...base,
      dataCase: "-",
      method: "snapvm-cold-start",
      run: 1,
      restore: await answerThroughAgent(guest, started, { agentReadyMs: status.readyMs ?? Number.NaN }),
    });
    const dirtyBytes = Math.floor(size.bytes / 2);
    const expected = await dirtyMemory(guest, dataCase, dirtyBytes);
    options.log(`[${size.label} ${dataCase}] guest up, ${dirtyBytes / 2 ** 20} MiB dirtied`);
    const env = { home, instance: name, multifdChannels: options.multifdChannels };
    let broken: string | undefined;
    for (const [id, factory] of CHAIN_METHODS.filter(([id]) => options.methods.includes(id))) {
      if (broken !== undefined) {
        records.push({ ...base, method: id, run: 1, error: `not run: ${broken}` });
        continue;
      }
      const method = factory(env);
      try {
        guest = await convertGuest(guest, method.input, env);
        await method.prepare(guest);
        const phase = { base, runs: options.runs, warm: options.warm, idleCpuS: options.idleCpuS, expected, dirtyBytes, log: options.log, note: options.note };
        if (method.kind === "fork") {
          await measureFanOuts(method, phase, records);
        } else if (method.kind === "transfer") {
          await measureTransfers(method, phase, records);
        } else {
          for (let run = 1; run <= options.runs; run++) {
            const record: RunRecord = { ...base, method: id, run };
            records.push(record);
            await measureRun(method, record, expected, dirtyBytes, options.warm);
            options.log(describe(record));
          }
        }
      } catch (error) {
        broken = `${id} failed: ${message(error)}`;
        const last = records.at(-1);
        if (last?.method === id && last.error === undefined) last.error = message(error);
        else records.push({ ...base, method: id, run: 1, error: message(error) });
        options.log(`[${size.label} ${dataCase}] ${broken}`);
      } finally {
        guest = method.current() ?? guest;
        await method.cleanup().catch((error: unknown) => {
          options.note(`[${size.label} ${dataCase}] ${id}: cleanup failed: ${message(error)}`);
        });
      }
    }
    return records;
  } finally {
    if (guest?.kind === "qemu") await guest.vm.quit().catch(() => undefined);
    await home.cli(["delete", "--force", name]);
  }
}

async function measureRun(method: SuspendMethod, record: RunRecord, expected: string, dirtyBytes: number, warm: boolean): Promise<void> {
  const running = method.current();
  if (running === undefined) throw new Error(`${method.id} has no running guest to save`);
  await redirtyMemory(running, dirtyBytes);
  record.save = await method.save();
  if (!warm) dropCaches();
  record.restore = await method.restore();
  const restored = method.current();
  if (restored === undefined) throw new Error(`${method.id} restored no guest`);
  const check = await checksumMemory(restored, dirtyBytes);
  const memory = memoryOf(qemuPidOf(restored));
  record.check = { ok: check.sums === expected, verifyMs: check.ms, qemuRssKiB: memory.rssKiB, qemuPssKiB: memory.pssKiB };
  if (!record.check.ok) throw new Error(`${method.id}: the guest's memory differs after the restore`);
}

function ms(value: number | undefined): string {
  if (value === undefined) return "-";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

function describe(r: RunRecord): string {
  return (
    `[${r.size.label} ${r.dataCase}] ${r.method} run ${r.run}: pause ${ms(r.save?.pauseMs)}, save ${ms(r.save?.totalMs)}, ` +
    `restore→answer ${ms(r.restore?.answerMs)}, check ${r.check?.ok === true ? "ok" : "FAILED"} (read back in ${ms(r.check?.verifyMs)})`
  );
}
