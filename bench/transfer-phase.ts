import { MEMORY_SHARE } from "./fan-out.ts";
import { checksumMemory, type DataCase } from "./guest-workload.ts";
import { qemuPidOf } from "./guest/running.ts";
import { dropCaches, memAvailableKiB, memoryOf } from "./host.ts";
import { TransferUnsupported, type TransferMethod, type TransferVariant } from "./methods/types.ts";
import { formatBytes, formatMs } from "./report/format.ts";
import type { GuestSize, RunRecord } from "./results.ts";

export interface TransferPhaseOptions {
  base: { size: GuestSize; dataCase: DataCase };
  runs: number;
  warm: boolean;
  /** The checksums of the dirtied data: an imported guest must have the same. */
  expected: string;
  dirtyBytes: number;
  log: (line: string) => void;
  /** Said in the run's notes as well as logged. */
  note: (line: string) => void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why a guest of `bytes` RAM should not be started beside the chain's: once the memory check has read
 * its data back, an imported guest holds up to its whole RAM. Other work may run on this host.
 */
function memoryShortfall(bytes: number): string | undefined {
  const availableKiB = memAvailableKiB();
  if (bytes / 1024 <= availableKiB * MEMORY_SHARE) return undefined;
  return `an imported ${formatBytes(bytes)} guest would not fit in ${MEMORY_SHARE * 100}% of the ${formatBytes(availableKiB * 1024)} available`;
}

/**
 * Every run and variant of a transfer method: (page cache dropped unless warm) transfer, then bring
 * it back (page cache dropped again) and, when that starts a guest, check the guest's memory; then
 * discard the output and the import. A failing variant is recorded on its row and in the notes, and
 * the next one runs; a variant snapvm does not have is skipped from then on; only a failure to
 * discard ends the method. Records go into `records` as they start, so a run that throws keeps its row.
 */
export async function measureTransfers(method: TransferMethod, options: TransferPhaseOptions, records: RunRecord[]): Promise<void> {
  const { base } = options;
  const unsupported = new Map<TransferVariant, string>();
  for (let run = 1; run <= options.runs; run++) {
    for (const variant of method.variants) {
      const record: RunRecord = { ...base, method: method.id, variant, run };
      records.push(record);
      const skip = unsupported.get(variant);
      if (skip !== undefined) {
        record.skipped = skip;
        continue;
      }
      try {
        if (!options.warm) dropCaches();
        record.transfer = await method.transfer(variant);
        const shortfall = method.importStartsGuest ? memoryShortfall(base.size.bytes) : undefined;
        if (shortfall !== undefined) {
          record.skipped = `import not run: ${shortfall}`;
        } else {
          if (!options.warm) dropCaches();
          const back = await method.importBack(variant);
          record.import = back.import;
          if (back.restore !== undefined) record.restore = back.restore;
          if (back.guest !== undefined) {
            const check = await checksumMemory(back.guest, options.dirtyBytes);
            const memory = memoryOf(qemuPidOf(back.guest));
            record.check = { ok: check.sums === options.expected, verifyMs: check.ms, qemuRssKiB: memory.rssKiB, qemuPssKiB: memory.pssKiB };
            if (!record.check.ok) record.error = "the imported guest's memory differs from the guest's when it was exported";
          }
        }
      } catch (error) {
        if (error instanceof TransferUnsupported) {
          record.skipped = `skipped: ${error.message}`;
          unsupported.set(variant, record.skipped);
        } else {
          record.error = message(error);
        }
      } finally {
        await method.discard(variant);
      }
      options.log(describe(record));
      if (record.error !== undefined || record.skipped !== undefined) {
        options.note(`${base.size.label} ${base.dataCase} ${method.id} ${variant} run ${run}: ${record.error ?? record.skipped ?? ""}`);
      }
    }
  }
}

function describe(r: RunRecord): string {
  const ms = (value: number | undefined): string => (value === undefined ? "-" : formatMs(value));
  const t = r.transfer;
  const parts = [
    t === undefined
      ? undefined
      : `${t.pauseMs === undefined ? "" : `pause ${ms(t.pauseMs)}, `}out ${ms(t.totalMs)} (${formatBytes(t.dataBytes)} of data, ${(t.dataBytes / 2 ** 20 / (t.totalMs / 1000)).toFixed(0)} MiB/s, ${formatBytes(t.outputAllocatedBytes)} written)`,
    r.import === undefined ? undefined : `back in ${ms(r.import.totalMs)}`,
    r.restore === undefined ? undefined : `restore→answer ${ms(r.restore.answerMs)}`,
    r.check === undefined ? undefined : `check ${r.check.ok ? "ok" : "FAILED"} (read back in ${ms(r.check.verifyMs)})`,
    r.error ?? r.skipped,
  ];
  return `[${r.size.label} ${r.dataCase}] ${r.method} ${r.variant ?? ""} run ${r.run}: ${parts.filter((p) => p !== undefined).join(", ")}`;
}
