import { importState, type ImportResult } from "../instance/import/import-state.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";
import { parseInstanceName } from "../paths/index.ts";

interface Flags {
  json?: true;
  fromArgv?: string;
  qemuArgs?: string;
}

function describe(r: ImportResult): string {
  const t = r.timings;
  return [
    `${r.name} imported from ${r.source.file} (${r.source.compression === "none" ? "raw" : r.source.compression}, ${bytes(r.source.streamBytes)} of stream, saved by instance "${r.source.instance}")`,
    `  ${r.cpus} cpu, ${bytes(r.memoryBytes)} RAM (${bytes(r.memoryAllocatedBytes)} allocated), ${r.accel}, QEMU ${r.qemuVersion}; device state ${bytes(r.deviceStateBytes)}`,
    `  ${ms(t.totalMs)} in all: prepare ${ms(t.prepareMs)}, check ${ms(t.checkMs)}, disk ${ms(t.diskMs)}, load ${ms(t.loadMs)}, save ${ms(t.saveMs)}`,
    ...r.notes.map((n) => `  note: ${n}`),
    `\`snapvm start ${r.name}\` resumes it.`,
  ].join("\n");
}

export async function importStateCommand(file: string, text: string, flags: Flags): Promise<void> {
  const name = parseInstanceName(text);
  const result = await withProgress(name, (progress) =>
    importState(file, name, {
      ...(flags.fromArgv === undefined ? {} : { argvFile: flags.fromArgv }),
      ...(flags.qemuArgs === undefined ? {} : { qemuArgs: flags.qemuArgs }),
      onProgress: progress.step,
    }),
  );
  printResult(result, flags.json === true, describe);
}
