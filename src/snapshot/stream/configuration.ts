import { limitError, streamError } from "./errors.ts";
import { decodeVmsd, type FieldBudget } from "./fields.ts";
import { SectionType } from "./format.ts";
import type { Cursor } from "./reader.ts";
import type { ConfigurationReport, JsonValue } from "./report.ts";
import type { VmsdDesc } from "./vmdesc-shape.ts";

const MAX_MACHINE_NAME = 256;
const MAX_CAPABILITIES = 64;

/**
 * Reads the QEMU_VM_CONFIGURATION record's body (the cursor is past the 0x07 byte): the
 * "configuration" VMState of savevm.c, i.e. be32 length + machine type name, then optional
 * subsections. The known ones are decoded by hand so the machine type and capabilities are
 * available even without a vmdesc; any other subsection needs the vmdesc's layout.
 */
export function readConfiguration(cursor: Cursor, start: number, desc: VmsdDesc | undefined, budget: FieldBudget): ConfigurationReport {
  const nameLength = cursor.be32("machine type length");
  if (nameLength > MAX_MACHINE_NAME) throw limitError(cursor.offset - 4, "machine type name length", MAX_MACHINE_NAME);
  const report: ConfigurationReport = {
    offset: start,
    length: 0,
    machineType: cursor.bytes(nameLength, "machine type").toString("latin1"),
    capabilities: [],
  };
  while (cursor.peekU8() === SectionType.Subsection) {
    const subOffset = cursor.offset;
    cursor.u8("subsection marker");
    const name = cursor.str8("configuration subsection name");
    cursor.be32("configuration subsection version");
    if (name === "configuration/capabilities") {
      const count = cursor.be32("capability count");
      if (count > MAX_CAPABILITIES) throw limitError(cursor.offset - 4, "capability count", MAX_CAPABILITIES);
      for (let i = 0; i < count; i++) report.capabilities.push(cursor.str8("capability name"));
    } else if (name === "configuration/target-page-bits") {
      const bits = cursor.be32("target page bits");
      if (bits < 9 || bits > 30) throw streamError(cursor.offset - 4, `target page bits ${bits} out of range 9..30`);
      report.targetPageBits = bits;
    } else if (name === "configuration/uuid") {
      report.uuid = formatUuid(cursor.bytes(16, "uuid"));
    } else {
      const sub = desc?.subsections.find((s) => s.vmsdName === name);
      if (sub === undefined) {
        throw streamError(subOffset, `unknown configuration subsection ${JSON.stringify(name)} and no vmdesc layout for it`);
      }
      const other: Record<string, JsonValue> = report.other ?? {};
      other[name] = decodeVmsd(cursor, sub, budget, 1);
      report.other = other;
    }
  }
  report.length = cursor.offset - start;
  return report;
}

function formatUuid(bytes: Buffer): string {
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
