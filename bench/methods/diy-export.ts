import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { instancePaths, parseInstanceName, parseSnapshotTag, snapshotPaths } from "../../src/paths/index.ts";
import { diskUse, type DiskUse } from "../host.ts";
import type { AgentGuest, RunningGuest } from "../guest/running.ts";
import { requireAgentGuest } from "./snapvm-common.ts";
import { recipientOf, snapshotFiles, timedShell, type SnapshotFile } from "./transfer-common.ts";
import { TRANSFER_VARIANTS, type ImportedBack, type MethodEnv, type TransferFigures, type TransferMethod, type TransferVariant } from "./types.ts";

const TAG = "bench-diy";

/** Copies the files holes and all, so they stay still while packed (the guest runs on, the snapshot could be deleted). */
const COPY = `dest=$1; shift; cp --sparse=always -- "$@" "$dest"/`;
/** $1 the copies, $2 the output, $3 the age recipient. tar -S stores the holes as a map, not as zeros; `sync FILE` fsyncs it, as snapvm does its bundle. */
const PACK = `tar -cSf - -C "$1" . | zstd -T0 -3 -q > "$2" && sync "$2"`;
const PACK_ENCRYPTED = `tar -cSf - -C "$1" . | zstd -T0 -3 -q | age -r "$3" > "$2" && sync "$2"`;
/** $1 where to unpack, $2 the output, $3 the age identity; every file unpacked is fsynced, as snapvm's import does. */
const UNPACK = `zstd -d -q -c "$2" | tar -xSf - -C "$1" && find "$1" -type f -exec sync {} +`;
const UNPACK_ENCRYPTED = `age -d -i "$3" "$2" | zstd -d -q | tar -xSf - -C "$1" && find "$1" -type f -exec sync {} +`;

/**
 * The do-it-yourself baseline of `snapvm snapshot export`, in the same run on the same guest: a live
 * snapshot (untimed, as the export's), its files (snapshotFiles: state, disk chain, boot files) copied
 * with `cp --sparse=always` into a temp directory, then `tar -cS | zstd -T0 -3 [| age -r KEY] > FILE`.
 * Timed: the copy plus the pipeline, to the file fsynced. Brought back by the reverse pipeline into a
 * directory (no instance to start: that is what the DIY way leaves to its user).
 */
export function diyExport(env: MethodEnv): TransferMethod {
  const { home, instance } = env;
  const dir = join(home.statesDir, "diy-export");
  const identity = join(dir, "key.txt");
  const copies = join(dir, "copy");
  const unpacked = join(dir, "unpacked");
  let recipient: string | undefined;
  let guest: AgentGuest | undefined;
  let files: SnapshotFile[] = [];
  let source: DiskUse | undefined;
  const output = (variant: TransferVariant): string => join(dir, variant === "encrypted" ? "state.tar.zst.age" : "state.tar.zst");

  const discard = async (variant: TransferVariant): Promise<void> => {
    await rm(copies, { recursive: true, force: true });
    await rm(unpacked, { recursive: true, force: true });
    await rm(output(variant), { force: true });
  };

  return {
    kind: "transfer",
    id: "diy-export",
    input: "agent",
    variants: TRANSFER_VARIANTS,
    importStartsGuest: false,
    current: (): RunningGuest | undefined => guest,
    async prepare(running) {
      guest = requireAgentGuest(running, "diy-export");
      await mkdir(dir, { recursive: true });
      await timedShell(`age-keygen -o "$1" 2>/dev/null`, [identity]);
      recipient = await recipientOf(identity);
      await home.cliJson(["snapshot", "create", instance, TAG]);
      files = await snapshotFiles(home, instance, TAG);
      source = await diskUse(files.map((f) => f.path));
    },
    async transfer(variant): Promise<TransferFigures> {
      if (recipient === undefined || source === undefined) throw new Error("diy-export: not prepared");
      await rm(copies, { recursive: true, force: true });
      await mkdir(copies);
      const out = output(variant);
      const copyMs = await timedShell(COPY, [copies, ...files.map((f) => f.path)]);
      const packMs = await timedShell(variant === "encrypted" ? PACK_ENCRYPTED : PACK, [copies, out, recipient]);
      await rm(copies, { recursive: true, force: true });
      const written = await diskUse([out]);
      return {
        totalMs: copyMs + packMs,
        dataBytes: source.allocatedBytes,
        sourceAllocatedBytes: source.allocatedBytes,
        outputAllocatedBytes: written.allocatedBytes,
        outputApparentBytes: written.apparentBytes,
        extra: { copyMs, packMs, files: files.length, sourceApparentBytes: source.apparentBytes },
      };
    },
    async importBack(variant): Promise<ImportedBack> {
      await rm(unpacked, { recursive: true, force: true });
      await mkdir(unpacked);
      const totalMs = await timedShell(variant === "encrypted" ? UNPACK_ENCRYPTED : UNPACK, [unpacked, output(variant), identity]);
      const restored = await diskUse(files.map((f) => join(unpacked, f.name)));
      if (restored.apparentBytes !== source?.apparentBytes)
        throw new Error(`diy-export: unpacked ${restored.apparentBytes} bytes, packed ${source?.apparentBytes ?? 0}`);
      return { import: { totalMs, extra: { unpackedAllocatedBytes: restored.allocatedBytes } } };
    },
    discard,
    async cleanup() {
      for (const variant of TRANSFER_VARIANTS) await discard(variant);
      await rm(dir, { recursive: true, force: true });
      if (existsSync(snapshotPaths(instancePaths(parseInstanceName(instance), home.dir), parseSnapshotTag(TAG)).dir))
        await home.cliJson(["snapshot", "delete", instance, TAG]);
    },
  };
}
