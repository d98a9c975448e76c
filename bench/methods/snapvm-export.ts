import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ExportResult } from "../../src/instance/bundles/export.ts";
import { instancePaths, parseInstanceName, parseSnapshotTag, snapshotPaths } from "../../src/paths/index.ts";
import type { BenchHome } from "../home.ts";
import { diskUse, type DiskUse } from "../host.ts";
import type { AgentGuest, RunningGuest } from "../guest/running.ts";
import { requireAgentGuest } from "./snapvm-common.ts";
import { importAndStart, recipientOf, removeImported, snapshotFiles } from "./transfer-common.ts";
import { TRANSFER_VARIANTS, type ImportedBack, type MethodEnv, type TransferFigures, type TransferMethod, type TransferVariant } from "./types.ts";

const TAG = "bench-export";

/**
 * `snapvm snapshot export NAME TAG --to FILE [--recipient age1…]` of one live snapshot of the chain's
 * guest (taken untimed in prepare), then `snapvm snapshot import` of that file into a second
 * SNAPVM_HOME, restored and started until the guest answers; the chain's memory check then reads the
 * imported guest's memory. The export is timed as a user sees it: the CLI process, spawn to exit (the
 * bundle is fsynced and renamed into place before it exits).
 */
export function snapvmExport(env: MethodEnv): TransferMethod {
  const { home, instance } = env;
  const dir = join(home.statesDir, "snapvm-export");
  const identity = join(dir, "key.txt");
  let importHome: BenchHome | undefined;
  let recipient: string | undefined;
  let guest: AgentGuest | undefined;
  /** The snapshot's files as the bench itself finds and stats them, to check the export's own figures. */
  let files: DiskUse | undefined;
  let imports = 0;
  const imported = new Map<TransferVariant, string>();
  const bundle = (variant: TransferVariant): string => join(dir, `${variant}.bundle`);
  const discard = async (variant: TransferVariant): Promise<void> => {
    const name = imported.get(variant);
    if (name !== undefined && importHome !== undefined) await removeImported(importHome, name);
    imported.delete(variant);
    await rm(bundle(variant), { force: true });
  };

  return {
    kind: "transfer",
    id: "snapvm-export",
    input: "agent",
    variants: TRANSFER_VARIANTS,
    importStartsGuest: true,
    current: (): RunningGuest | undefined => guest,
    async prepare(running) {
      guest = requireAgentGuest(running, "snapvm-export");
      await mkdir(dir, { recursive: true });
      await home.cliJson(["key", "generate", "--out", identity]);
      recipient = await recipientOf(identity);
      importHome = home.child();
      await home.cliJson(["snapshot", "create", instance, TAG]);
      files = await diskUse((await snapshotFiles(home, instance, TAG)).map((f) => f.path));
    },
    async transfer(variant): Promise<TransferFigures> {
      if (recipient === undefined || files === undefined) throw new Error("snapvm-export: not prepared");
      const out = bundle(variant);
      const { run, ...parsed } = await home.cliJson([
        "snapshot",
        "export",
        instance,
        TAG,
        "--to",
        out,
        ...(variant === "encrypted" ? ["--recipient", recipient] : []),
      ]);
      const value = parsed.value as ExportResult;
      if (value.encrypted !== (variant === "encrypted"))
        throw new Error(`snapvm snapshot export wrote encrypted=${String(value.encrypted)} for the ${variant} variant`);
      const output = await diskUse([out]);
      return {
        totalMs: run.wallMs,
        dataBytes: value.dataBytes,
        sourceAllocatedBytes: value.files.reduce((sum, f) => sum + f.allocatedBytes, 0),
        outputAllocatedBytes: output.allocatedBytes,
        outputApparentBytes: output.apparentBytes,
        extra: {
          cliReportedMs: value.totalMs,
          bundleBytes: value.bundleBytes,
          sentBytes: value.sentBytes,
          files: value.files.length,
          sourceApparentBytes: value.files.reduce((sum, f) => sum + f.sizeBytes, 0),
          benchAllocatedBytes: files.allocatedBytes,
        },
      };
    },
    async importBack(variant): Promise<ImportedBack> {
      if (importHome === undefined) throw new Error("snapvm-export: not prepared");
      const name = `${instance}-i${variant[0] ?? "x"}${++imports}`;
      imported.set(variant, name);
      return importAndStart(importHome, bundle(variant), name, variant === "encrypted" ? identity : undefined);
    },
    discard,
    async cleanup() {
      for (const variant of TRANSFER_VARIANTS) await discard(variant);
      await importHome?.cleanup();
      await rm(dir, { recursive: true, force: true });
      if (existsSync(snapshotPaths(instancePaths(parseInstanceName(instance), home.dir), parseSnapshotTag(TAG)).dir))
        await home.cliJson(["snapshot", "delete", instance, TAG]);
    },
  };
}
