import Table from "cli-table3";
import { inspectSnapshotState, inspectStatePath, type StateInspection } from "../instance/snapshots/inspect.ts";
import type { SectionReport, StreamReport } from "../snapshot/stream/index.ts";
import { bytes } from "./format.ts";
import { printResult } from "./output.ts";
import { parseInstanceName, parseSnapshotTag } from "../paths/index.ts";

type Json = { json?: true };

const TABLE_STYLE = { head: [], border: [], compact: true };

function origin(i: StateInspection): string {
  switch (i.origin.kind) {
    case "snapshot":
      return `snapshot ${i.origin.instance}@${i.origin.tag}`;
    case "state-dir":
      return `${i.origin.stateKind} state in ${i.origin.dir}`;
    case "file":
      return "a stream file";
  }
}

/** One row per section id: a whole-RAM stream has hundreds of `ram` part records, one line says enough. */
function sectionRows(sections: readonly SectionReport[]): string[][] {
  const byId = new Map<number, { first: SectionReport; records: number; bytes: number; complete: boolean }>();
  for (const s of sections) {
    const row = byId.get(s.id) ?? { first: s, records: 0, bytes: 0, complete: true };
    row.records++;
    row.bytes += s.length ?? 0;
    row.complete &&= s.length !== undefined;
    byId.set(s.id, row);
  }
  return [...byId.values()].map(({ first, records, bytes: size, complete }) => [
    String(first.id),
    first.idstr,
    String(first.instanceId),
    String(first.versionId),
    String(records),
    complete ? bytes(size) : "?",
    first.decoded,
  ]);
}

function ramLines(ram: NonNullable<StreamReport["ram"]>): string[] {
  const mode = [ram.mappedRam ? "mapped-ram" : undefined, ram.ignoreShared ? "x-ignore-shared" : undefined].filter((m) => m !== undefined).join(", ");
  const table = new Table({ head: ["BLOCK", "SIZE", "PAGES", "ZERO PAGES", ""], style: TABLE_STYLE });
  for (const b of ram.blocks) {
    const pages = b.mappedRam?.pagesInFile ?? b.pages ?? 0;
    table.push([b.name, bytes(b.sizeBytes), String(pages), String(b.zeroPages ?? 0), b.shared === true ? "shared (not in this file)" : ""]);
  }
  return [
    `ram:       ${bytes(ram.pageSize)} pages${mode === "" ? "" : `, ${mode}`}; ${ram.pages} pages with contents (${bytes(ram.pages * ram.pageSize)}), ${ram.zeroPages} zero-page records`,
    table.toString(),
  ];
}

/** The readable summary; --json prints the whole report instead. */
export function describeInspection(i: StateInspection): string {
  const r = i.report;
  const c = r.configuration;
  const lines = [
    `file:      ${i.file} (${bytes(r.fileBytes)}${i.compression === "none" ? "" : `, decompressed from ${i.compression}`}), ${origin(i)}${i.role === undefined ? "" : `, role ${i.role}`}`,
    `stream:    ${r.magic} version ${r.version}${c === null ? ", no configuration record" : `, machine ${c.machineType}`}`,
  ];
  if (c !== null) {
    lines.push(`           capabilities: ${c.capabilities.length === 0 ? "none" : c.capabilities.join(", ")}`);
    if (c.targetPageBits !== undefined || c.uuid !== undefined) {
      lines.push(
        `           ${[c.targetPageBits === undefined ? undefined : `target page bits ${c.targetPageBits}`, c.uuid === undefined ? undefined : `uuid ${c.uuid}`].filter((x) => x !== undefined).join(", ")}`,
      );
    }
  }
  if (r.ram !== undefined) lines.push(...ramLines(r.ram));
  const sections = new Table({ head: ["ID", "IDSTR", "INSTANCE", "VERSION", "RECORDS", "SIZE", "DECODED"], style: TABLE_STYLE });
  sections.push(...sectionRows(r.sections));
  lines.push(`sections:  ${new Set(r.sections.map((s) => s.id)).size} sections in ${r.sections.length} records`, sections.toString());
  lines.push(
    r.vmdesc.present
      ? `vmdesc:    present, ${r.vmdesc.devices} devices, ${bytes(r.vmdesc.sizeBytes)} at offset ${r.vmdesc.offset ?? "?"}`
      : "vmdesc:    absent",
  );
  lines.push(
    `end:       ${r.eofOffset === null ? "no EOF marker reached" : `EOF at offset ${r.eofOffset}`}${r.trailingBytes > 0 ? `, ${r.trailingBytes} trailing bytes` : ""}`,
  );
  if (r.notes.length > 0) lines.push("notes:", ...r.notes.map((n) => `  - ${n}`));
  return lines.join("\n");
}

export async function snapshotInspectCommand(name: string, tag: string, flags: Json): Promise<void> {
  printResult(await inspectSnapshotState(parseInstanceName(name), parseSnapshotTag(tag)), flags.json === true, describeInspection);
}

export async function inspectStateCommand(path: string, flags: Json): Promise<void> {
  printResult(await inspectStatePath(path), flags.json === true, describeInspection);
}
