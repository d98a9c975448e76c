import Table from "cli-table3";
import {
  compressSnapshot,
  decompressSnapshot,
  runBackgroundCompression,
  type BackgroundCompression,
  type SnapshotCompressResult,
} from "../instance/snapshots/compress.ts";
import { createSnapshot } from "../instance/snapshots/create.ts";
import { deleteSnapshot } from "../instance/snapshots/delete.ts";
import { listSnapshots, snapshotDetails } from "../instance/snapshots/list.ts";
import { restoreSnapshot } from "../instance/snapshots/restore.ts";
import { bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { withProgress } from "./progress.ts";
import { describeStart } from "./start.ts";
import { parseInstanceName, parseSnapshotTag } from "../paths/index.ts";

type Json = { json?: true };

export async function snapshotCreateCommand(text: string, tagText: string, flags: Json): Promise<void> {
  const [name, tag] = [parseInstanceName(text), parseSnapshotTag(tagText)];
  const r = await withProgress(name, (progress) => createSnapshot(name, tag, undefined, progress.step));
  printResult(
    r,
    flags.json === true,
    () =>
      `${r.instance}@${r.tag}: ${r.pauseMs > 0 ? `guest paused ${ms(r.pauseMs)} (memory by ${r.memoryCopy})` : "taken offline"}, ${bytes(r.allocatedBytes)} on disk, ${ms(r.totalMs)} in all${describeBackground(r.compression)}`,
  );
}

export async function snapshotListCommand(name: string | undefined, flags: Json): Promise<void> {
  const list = await listSnapshots(name === undefined ? undefined : parseInstanceName(name));
  printResult(list, flags.json === true, () => {
    if (list.length === 0) return "no snapshots";
    const table = new Table({
      head: ["INSTANCE", "TAG", "PARENT", "CREATED", "KIND", "PAUSE", "ON DISK", "APPARENT", "COMPRESSED", "NOTE"],
      style: { head: [], border: [] },
    });
    for (const s of list) {
      if (s.kind === "broken") {
        table.push([s.instance, s.tag, "", "", "broken", "", "", "", "", s.reason]);
        continue;
      }
      table.push([
        s.instance,
        s.tag,
        s.parent ?? "",
        s.createdAt.replace("T", " ").slice(0, 19),
        s.kind === "disk-only" ? "disk only" : s.kind,
        s.live ? ms(s.pauseMs) : "",
        bytes(s.allocatedBytes),
        bytes(s.apparentBytes),
        s.compressed ? "zstd" : "no",
        "",
      ]);
    }
    return table.toString();
  });
}

export async function snapshotInfoCommand(name: string, tag: string, flags: Json): Promise<void> {
  const d = await snapshotDetails(parseInstanceName(name), parseSnapshotTag(tag));
  printResult(d, flags.json === true, () =>
    [
      `snapshot:  ${d.instance}@${d.tag}${d.parent === null ? "" : ` (after ${d.parent})`}`,
      `created:   ${d.createdAt}, ${d.live ? `live, guest paused ${ms(d.pauseMs)}` : d.hasMemory ? "from a suspended instance" : "disk only"}`,
      `size:      ${bytes(d.allocatedBytes)} on disk, ${bytes(d.apparentBytes)} apparent${d.compressed ? ", zstd" : ""}`,
      `disk:      layer ${d.diskLayer}`,
      `qemu:      ${d.manifest.qemuVersion}, ${d.manifest.accel}`,
      `forks:     ${d.forks.length === 0 ? "none" : d.forks.join(", ")}`,
    ].join("\n"),
  );
}

export async function snapshotRestoreCommand(text: string, tagText: string, flags: Json): Promise<void> {
  const [name, tag] = [parseInstanceName(text), parseSnapshotTag(tagText)];
  const r = await withProgress(name, (progress) => restoreSnapshot(name, tag, { onProgress: progress.step, onNotice: progress.notice }));
  printResult(
    r,
    flags.json === true,
    () => `${r.instance} is back at ${r.tag}${r.started === undefined ? "; `snapvm start` resumes it there" : `: ${describeStart(r.started)}`}`,
  );
}

export async function snapshotDeleteCommand(name: string, tag: string, flags: Json): Promise<void> {
  const r = await deleteSnapshot(parseInstanceName(name), parseSnapshotTag(tag));
  printResult(
    r,
    flags.json === true,
    () => `deleted ${r.instance}@${r.tag}; its disk layer was ${r.diskLayer}${r.merged.length > 0 ? ` into ${r.merged.length} image(s)` : ""}`,
  );
}

function describeBackground(compression: BackgroundCompression | undefined): string {
  if (compression === undefined) return "";
  return "skipped" in compression
    ? `; not compressed: ${compression.skipped}`
    : `; compressing in the background (zstd -${compression.level}, pid ${compression.pid})`;
}

function describeCompression(r: SnapshotCompressResult, verb: string): string {
  if (!r.changed) return `${r.instance}@${r.tag}: nothing to ${verb}`;
  const files = r.files.map((f) => `${f.from} ${bytes(f.fromAllocatedBytes)} → ${f.to} ${bytes(f.toAllocatedBytes)}`).join(", ");
  return `${r.instance}@${r.tag}: ${files} (${bytes(r.files.reduce((sum, f) => sum + f.apparentBytes, 0))} apparent), ${ms(r.totalMs)}`;
}

export async function snapshotCompressCommand(text: string, tagText: string, flags: Json & { level?: number; background?: true }): Promise<void> {
  const [name, tag] = [parseInstanceName(text), parseSnapshotTag(tagText)];
  if (flags.background === true) {
    // Spawned by `snapshot create` with stdout and stderr on agent.log: it logs, and prints nothing.
    process.exitCode = await runBackgroundCompression(name, tag, flags.level);
    return;
  }
  const r = await withProgress(name, (progress) =>
    compressSnapshot(name, tag, { ...(flags.level === undefined ? {} : { level: flags.level }), onProgress: progress.step }),
  );
  printResult(r, flags.json === true, () => describeCompression(r, "compress"));
}

export async function snapshotDecompressCommand(text: string, tagText: string, flags: Json): Promise<void> {
  const [name, tag] = [parseInstanceName(text), parseSnapshotTag(tagText)];
  const r = await withProgress(name, (progress) => decompressSnapshot(name, tag, { onProgress: progress.step }));
  printResult(r, flags.json === true, () => describeCompression(r, "decompress"));
}
