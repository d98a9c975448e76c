import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { limitError, streamError } from "./errors.ts";
import { SectionType } from "./format.ts";
import { Cursor } from "./reader.ts";
import type { JsonValue } from "./report.ts";
import { bufferSource } from "./source.ts";
import { decodeScalar, renderBuffer } from "./values.ts";
import type { FieldDesc, VmsdDesc } from "./vmdesc-shape.ts";

/** Arrays of scalars longer than this are shown as one buffer rather than element by element. */
const MAX_LISTED_ELEMENTS = 64;

/** Shared across one stream so a hostile vmdesc cannot make the output explode. */
export interface FieldBudget {
  values: number;
  readonly maxValues: number;
  readonly maxDepth: number;
}

/**
 * Decodes one VMState (fields, then subsections) at the cursor using its vmdesc layout.
 * The layout's `size` is what QEMU wrote for each element, so every field advances by exactly that;
 * structs are walked and checked against their size, so a vmdesc that disagrees with the bytes fails
 * here with the offset instead of decoding garbage.
 */
export function decodeVmsd(cursor: Cursor, desc: VmsdDesc, budget: FieldBudget, depth = 0): Record<string, JsonValue> {
  if (depth > budget.maxDepth) throw limitError(cursor.offset, `VMState nesting in ${desc.vmsdName}`, budget.maxDepth);
  const out: Record<string, JsonValue> = {};
  for (const field of desc.fields ?? []) addField(out, field, decodeField(cursor, field, budget, depth));
  for (const sub of desc.subsections) out[sub.vmsdName] = decodeSubsection(cursor, desc, sub, budget, depth);
  return out;
}

function decodeSubsection(cursor: Cursor, parent: VmsdDesc, sub: VmsdDesc, budget: FieldBudget, depth: number): Record<string, JsonValue> {
  const start = cursor.offset;
  const marker = cursor.u8(`subsection marker of ${sub.vmsdName}`);
  if (marker !== SectionType.Subsection) {
    throw streamError(start, `expected subsection ${sub.vmsdName} of ${parent.vmsdName} (0x05), found 0x${marker.toString(16)}`);
  }
  const name = cursor.str8("subsection name");
  if (name !== sub.vmsdName) throw streamError(start, `expected subsection ${sub.vmsdName} of ${parent.vmsdName}, found ${JSON.stringify(name)}`);
  cursor.be32("subsection version");
  return decodeVmsd(cursor, sub, budget, depth + 1);
}

function decodeField(cursor: Cursor, field: FieldDesc, budget: FieldBudget, depth: number): JsonValue {
  const count = field.arrayLen ?? 1;
  charge(cursor, budget, count);
  if (field.arrayLen === undefined) return decodeElement(cursor, field, budget, depth, true);
  if (field.struct === undefined && field.type !== "capability" && count > MAX_LISTED_ELEMENTS) {
    // Long scalar arrays (register files, tables) read as one block: cheaper and easier to scan.
    const block = renderBuffer(cursor.bytes(count * field.size, `${count} × ${field.size}-byte elements of ${field.name}`));
    return { ...block, elements: count, elementType: field.type };
  }
  const values: JsonValue[] = [];
  for (let i = 0; i < count; i++) values.push(decodeElement(cursor, field, budget, depth, i === 0));
  return values;
}

/** `described` is false for elements 2..n of a compressed array: QEMU sized only the first. */
function decodeElement(cursor: Cursor, field: FieldDesc, budget: FieldBudget, depth: number, described: boolean): JsonValue {
  const start = cursor.offset;
  if (field.type === "capability") return cursor.str8(`capability ${field.name}`);
  if (field.struct !== undefined) {
    const value = decodeVmsd(cursor, field.struct, budget, depth + 1);
    const used = cursor.offset - start;
    if (described && used !== field.size) {
      throw streamError(start, `struct ${field.name} (${field.struct.vmsdName}) is described as ${field.size} bytes but its fields took ${used}`, {
        field: field.name,
      });
    }
    return value;
  }
  const bytes = cursor.bytes(field.size, `field ${field.name} (${field.type}, ${field.size} bytes)`);
  if (field.inline !== undefined) return decodeInline(bytes, field.inline, budget, depth) ?? renderBuffer(bytes);
  return decodeScalar(field.type, bytes) ?? renderBuffer(bytes);
}

/** Best effort: the inline layout must account for exactly the field's bytes, else the bytes are shown raw. */
function decodeInline(bytes: Buffer, layout: VmsdDesc, budget: FieldBudget, depth: number): JsonValue | undefined {
  const inner = new Cursor(bufferSource(bytes));
  try {
    const value = decodeVmsd(inner, layout, budget, depth + 1);
    return inner.atEnd() ? value : undefined;
  } catch (error) {
    if (isSnapvmError(error, ErrorCode.StateInvalid) && error.details["limit"] === undefined) return undefined;
    throw error;
  }
}

/** Arrays QEMU could not compress arrive as repeated fields with an index: gather them under one name. */
function addField(out: Record<string, JsonValue>, field: FieldDesc, value: JsonValue): void {
  const existing = out[field.name];
  if (field.index === undefined && existing === undefined) {
    out[field.name] = value;
  } else if (Array.isArray(existing) && field.arrayLen === undefined) {
    existing.push(value);
  } else if (existing === undefined) {
    out[field.name] = [value];
  } else {
    out[field.name] = [existing, value];
  }
}

function charge(cursor: Cursor, budget: FieldBudget, count: number): void {
  budget.values += count;
  if (budget.values > budget.maxValues) throw limitError(cursor.offset, "decoded field values", budget.maxValues);
}
