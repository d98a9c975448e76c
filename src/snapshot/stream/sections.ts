import { readConfiguration } from "./configuration.ts";
import { limitError, streamError } from "./errors.ts";
import { decodeVmsd, type FieldBudget } from "./fields.ts";
import { findFooterEnd } from "./footer-scan.ts";
import { CAP_IGNORE_SHARED, CAP_MAPPED_RAM, DEFAULT_PAGE_SIZE, RAM_SECTION_VERSION, SectionType } from "./format.ts";
import type { StreamLimits } from "./limits.ts";
import { newRamContext, readRamRecords, type RamContext } from "./ram.ts";
import type { Cursor } from "./reader.ts";
import type { CommandReport, ConfigurationReport, SectionKind, SectionReport } from "./report.ts";
import type { DeviceDesc, VmDesc } from "./vmdesc-shape.ts";

export interface WalkResult {
  configuration: ConfigurationReport | null;
  sections: SectionReport[];
  commands: CommandReport[];
  ram: RamContext | undefined;
  /** Offset of the EOF byte, or null when an undelimitable section stopped the walk. */
  eofOffset: number | null;
  notes: string[];
}

interface SectionHeader {
  idstr: string;
  instanceId: number;
  versionId: number;
}

const KIND: Partial<Record<number, SectionKind>> = {
  [SectionType.Start]: "start",
  [SectionType.Part]: "part",
  [SectionType.End]: "end",
  [SectionType.Full]: "full",
};

/**
 * Walks the records after the file header up to QEMU_VM_EOF (savevm.c order: configuration, then
 * sections, each followed by its footer when footers are on). Device sections are decoded with the
 * vmdesc when it describes them; anything else is only delimited, and the walk stops early, with a
 * note, if a section can be neither decoded nor delimited.
 */
export class SectionWalker {
  readonly #headers = new Map<number, SectionHeader>();
  readonly #devices = new Map<string, DeviceDesc>();
  readonly #result: WalkResult = { configuration: null, sections: [], commands: [], ram: undefined, eofOffset: null, notes: [] };
  readonly #budget: FieldBudget;
  #footersSeen = false;

  constructor(
    private readonly cursor: Cursor,
    private readonly vmdesc: VmDesc | undefined,
    private readonly limits: StreamLimits,
  ) {
    this.#budget = { values: 0, maxValues: limits.maxValues, maxDepth: limits.maxStructDepth };
    for (const device of vmdesc?.devices ?? []) this.#devices.set(deviceKey(device.name, device.instanceId), device);
  }

  walk(): WalkResult {
    const { cursor } = this;
    for (let records = 0; ; records++) {
      if (records > this.limits.maxSections) throw limitError(cursor.offset, "section records", this.limits.maxSections);
      const offset = cursor.offset;
      const type = cursor.u8("section type");
      if (type === SectionType.Eof) {
        this.#result.eofOffset = offset;
        return this.#result;
      }
      if (type === SectionType.Configuration) {
        if (records !== 0) throw streamError(offset, "configuration record after the first section");
        this.#result.configuration = readConfiguration(cursor, offset, this.vmdesc?.configuration, this.#budget);
      } else if (type === SectionType.Command) {
        const command = cursor.be16("command type");
        const length = cursor.be16("command length");
        cursor.skip(length, `command 0x${command.toString(16)} data`);
        this.#result.commands.push({ offset, command, length });
      } else {
        const kind = KIND[type];
        if (kind === undefined) throw streamError(offset, `unknown section type 0x${type.toString(16)}`, { sectionType: type });
        if (!this.#section(offset, kind)) return this.#result;
      }
    }
  }

  /** Reads one section; false when its end could not be found and the walk must stop. */
  #section(offset: number, kind: SectionKind): boolean {
    const { cursor } = this;
    const id = cursor.be32("section id");
    let header: SectionHeader;
    if (kind === "start" || kind === "full") {
      header = { idstr: cursor.str8("section idstr"), instanceId: cursor.be32("instance id"), versionId: cursor.be32("version id") };
      if (this.#headers.has(id)) throw streamError(offset, `section id ${id} started twice`, { sectionId: id });
      this.#headers.set(id, header);
    } else {
      const started = this.#headers.get(id);
      if (started === undefined) throw streamError(offset, `${kind} of section id ${id}, which never started`, { sectionId: id });
      header = started;
    }
    const section: SectionReport = { id, ...header, kind, offset, decoded: "no" };
    this.#result.sections.push(section);

    const device = kind === "full" ? this.#devices.get(deviceKey(header.idstr, header.instanceId)) : undefined;
    if (header.idstr === "ram" && header.instanceId === 0 && kind !== "full") {
      if (header.versionId !== RAM_SECTION_VERSION)
        throw streamError(offset, `ram section version ${header.versionId}; this decoder reads ${RAM_SECTION_VERSION}`);
      readRamRecords(cursor, this.#ram());
      section.decoded = "ram";
    } else if (device?.fields !== undefined) {
      section.vmsdName = device.vmsdName;
      section.fields = decodeVmsd(cursor, device, this.#budget);
      section.decoded = "fields";
    } else {
      const end = findFooterEnd(cursor.source, cursor.offset, id, this.#headers);
      if (end === undefined && this.#footersSeen) {
        throw streamError(offset, `truncated: section ${header.idstr} (id ${id}) has no layout and no footer before the end of the stream`, { sectionId: id });
      }
      if (end === undefined) {
        this.#result.notes.push(
          `section ${header.idstr} (id ${id}) at offset ${offset} has no layout${this.vmdesc === undefined ? " (no vmdesc)" : " in the vmdesc"} and no footer to find its end; the walk stopped there`,
        );
        return false;
      }
      cursor.seek(end - 5, "section footer");
      section.decoded = "delimited";
      if (this.vmdesc !== undefined)
        this.#result.notes.push(`section ${header.idstr} (id ${id}, ${kind}) has no layout in the vmdesc: delimited by its footer, not decoded`);
    }
    this.#footer(id, header.idstr);
    section.length = cursor.offset - offset;
    return true;
  }

  /** Footers are optional per machine type, but a stream that has them has them after every section. */
  #footer(id: number, idstr: string): void {
    const { cursor } = this;
    const offset = cursor.offset;
    if (cursor.peekU8() !== SectionType.Footer) {
      if (this.#footersSeen) throw streamError(offset, `section ${idstr} (id ${id}) ends without the footer earlier sections have`, { sectionId: id });
      return;
    }
    cursor.u8("footer marker");
    const footerId = cursor.be32("footer section id");
    if (footerId !== id) throw streamError(offset, `footer carries section id ${footerId}, expected ${id} (${idstr})`, { sectionId: id, footerId });
    this.#footersSeen = true;
  }

  #ram(): RamContext {
    if (this.#result.ram !== undefined) return this.#result.ram;
    const capabilities = this.#result.configuration?.capabilities ?? [];
    const bits = this.#result.configuration?.targetPageBits;
    const pageSize = this.vmdesc?.pageSize ?? (bits === undefined ? DEFAULT_PAGE_SIZE : 2 ** bits);
    this.#result.ram = newRamContext(pageSize, capabilities.includes(CAP_MAPPED_RAM), capabilities.includes(CAP_IGNORE_SHARED), this.limits.maxRamBlocks);
    return this.#result.ram;
  }
}

function deviceKey(name: string, instanceId: number): string {
  return `${name}\u0000${instanceId}`;
}
