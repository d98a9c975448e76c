import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { instancePaths, parseInstanceName, parseSnapshotTag, snapshotPaths } from "../../src/paths/index.ts";
import type { BenchHome } from "../home.ts";
import { diskUse } from "../host.ts";
import type { AgentGuest, RunningGuest } from "../guest/running.ts";
import { requireAgentGuest } from "./snapvm-common.ts";
import { importAndStart, recipientOf, removeImported } from "./transfer-common.ts";
import {
  TRANSFER_VARIANTS,
  TransferUnsupported,
  type ImportedBack,
  type MethodEnv,
  type TransferFigures,
  type TransferMethod,
  type TransferVariant,
} from "./types.ts";

/** What `snapvm snapshot create --to … --json` prints. */
interface OffloadJson {
  pauseMs: number;
  totalMs: number;
  bundleBytes: number;
  dataBytes: number;
  sentBytes: number;
  megabytesPerSecond: number;
}

interface CliErrorJson {
  error?: { code?: string; message?: string; details?: { reason?: string } };
}

/** The CLI's parse error for an option it does not have (commander's unknownOption), if that is why it failed. */
function unknownOption(stdout: string): string | undefined {
  try {
    const error = (JSON.parse(stdout) as CliErrorJson).error;
    if (error?.details?.reason === "unknownOption" || /unknown option/i.test(error?.message ?? "")) return error?.message ?? "unknown option";
  } catch {
    // not the CLI's JSON error
  }
  return undefined;
}

/**
 * The live offload: `snapvm snapshot create NAME TAG --to FILE [--recipient age1…]` streams the
 * running guest's state to the file while the guest runs on, pausing it for the switch-over only;
 * then the file is imported into a second SNAPVM_HOME and started as the export's is. Each run takes
 * a new tag; whatever local snapshot the command leaves is deleted with the run's output. When snapvm
 * has no `--to` on `snapshot create` yet, the rows are skipped with the CLI's own message.
 */
export function snapvmOffload(env: MethodEnv): TransferMethod {
  const { home, instance } = env;
  const dir = join(home.statesDir, "snapvm-offload");
  const identity = join(dir, "key.txt");
  let importHome: BenchHome | undefined;
  let recipient: string | undefined;
  let guest: AgentGuest | undefined;
  let runs = 0;
  const tags = new Map<TransferVariant, string>();
  const imported = new Map<TransferVariant, string>();
  const bundle = (variant: TransferVariant): string => join(dir, `${variant}.bundle`);
  const snapshotDir = (tag: string): string => snapshotPaths(instancePaths(parseInstanceName(instance), home.dir), parseSnapshotTag(tag)).dir;

  const discard = async (variant: TransferVariant): Promise<void> => {
    const name = imported.get(variant);
    if (name !== undefined && importHome !== undefined) await removeImported(importHome, name);
    imported.delete(variant);
    const tag = tags.get(variant);
    if (tag !== undefined && existsSync(snapshotDir(tag))) await home.cliJson(["snapshot", "delete", instance, tag]);
    tags.delete(variant);
    await rm(bundle(variant), { force: true });
  };

  return {
    kind: "transfer",
    id: "snapvm-offload",
    input: "agent",
    variants: TRANSFER_VARIANTS,
    importStartsGuest: true,
    current: (): RunningGuest | undefined => guest,
    async prepare(running) {
      guest = requireAgentGuest(running, "snapvm-offload");
      await mkdir(dir, { recursive: true });
      await home.cliJson(["key", "generate", "--out", identity]);
      recipient = await recipientOf(identity);
      importHome = home.child();
    },
    async transfer(variant): Promise<TransferFigures> {
      if (recipient === undefined) throw new Error("snapvm-offload: not prepared");
      const tag = `bench-offload-${++runs}`;
      tags.set(variant, tag);
      const out = bundle(variant);
      const args = ["snapshot", "create", instance, tag, "--to", out, ...(variant === "encrypted" ? ["--recipient", recipient] : [])];
      const run = await home.cli([...args, "--json"]);
      if (run.code !== 0) {
        const unknown = unknownOption(run.stdout);
        if (unknown !== undefined) throw new TransferUnsupported(`snapvm snapshot create has no live offload here (${unknown})`);
        throw new Error(`snapvm ${args.join(" ")} exited ${run.code}\n${run.stderr}${run.stdout}`);
      }
      const value = JSON.parse(run.stdout) as OffloadJson;
      if (!(value.pauseMs > 0)) throw new Error(`snapvm snapshot create --to reported no guest pause: ${run.stdout}`);
      const output = await diskUse([out]);
      return {
        totalMs: run.wallMs,
        pauseMs: value.pauseMs,
        dataBytes: value.dataBytes,
        outputAllocatedBytes: output.allocatedBytes,
        outputApparentBytes: output.apparentBytes,
        extra: { cliReportedMs: value.totalMs, bundleBytes: value.bundleBytes, sentBytes: value.sentBytes, cliReportedMiBps: value.megabytesPerSecond },
      };
    },
    async importBack(variant): Promise<ImportedBack> {
      if (importHome === undefined) throw new Error("snapvm-offload: not prepared");
      const name = `${instance}-o${variant[0] ?? "x"}${runs}`;
      imported.set(variant, name);
      return importAndStart(importHome, bundle(variant), name, variant === "encrypted" ? identity : undefined);
    },
    discard,
    async cleanup() {
      for (const variant of TRANSFER_VARIANTS) await discard(variant);
      await importHome?.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
