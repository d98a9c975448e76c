import { limitError, streamError } from "./errors.ts";
import type { StreamLimits } from "./limits.ts";

/** One field as the vmdesc describes it; `size` is the bytes QEMU actually wrote for one element. */
export interface FieldDesc {
  name: string;
  type: string;
  size: number;
  /** A "compressed" array: this many elements, only the first described. */
  arrayLen?: number;
  /** One element of an array that could not be compressed; its siblings follow with the same name. */
  index?: number;
  /** Layout of a struct element (VMS_STRUCT): the bytes must match it exactly. */
  struct?: VmsdDesc;
  /**
   * A layout the field's own writer printed into the field (vstruct, WITH_TMP, lists): usually right,
   * but a list writes one layout per element into the same JSON keys, so it is only a best guess.
   */
  inline?: VmsdDesc;
}

/** A VMStateDescription as written: fields in stream order, then the subsections that were sent. */
export interface VmsdDesc {
  vmsdName: string;
  version: number;
  /** Undefined for entries that describe no fields: the decoder cannot walk those. */
  fields: FieldDesc[] | undefined;
  subsections: VmsdDesc[];
}

export interface DeviceDesc extends VmsdDesc {
  /** The section idstr this entry describes. */
  name: string;
  instanceId: number;
}

export interface VmDesc {
  /** Offset of the 0x06 record type byte. */
  offset: number;
  /** Length of the JSON text. */
  sizeBytes: number;
  pageSize: number | undefined;
  configuration: VmsdDesc | undefined;
  devices: DeviceDesc[];
}

type Json = Record<string, unknown>;

/**
 * Turns the parsed vmdesc JSON into typed descriptions, rejecting anything whose shape would make the
 * decoder guess. `offset` is where the JSON starts, for error messages.
 */
export class VmdescShape {
  constructor(
    private readonly offset: number,
    private readonly limits: StreamLimits,
  ) {}

  document(value: unknown): Omit<VmDesc, "offset" | "sizeBytes"> {
    const doc = this.object(value, "document");
    const devices = doc["devices"];
    if (!Array.isArray(devices)) throw this.bad("document", "has no devices array");
    const pageSize = doc["page_size"];
    return {
      pageSize: pageSize === undefined ? undefined : this.pageSize(pageSize),
      configuration: doc["configuration"] === undefined ? undefined : this.vmsd(doc["configuration"], "configuration", 0),
      devices: devices.map((device, i) => this.device(device, `devices[${i}]`)),
    };
  }

  private device(value: unknown, path: string): DeviceDesc {
    const o = this.object(value, path);
    const name = this.name(o["name"], `${path}.name`);
    const instanceId = this.integer(o["instance_id"], `${path}.instance_id`, 0xffff_ffff);
    // Old-style (non-VMState) devices carry no vmsd_name; their one field is an opaque "data" buffer.
    return { ...this.vmsd({ vmsd_name: name, version: 0, ...o }, path, 0), name, instanceId };
  }

  private vmsd(value: unknown, path: string, depth: number): VmsdDesc {
    if (depth > this.limits.maxStructDepth) throw this.tooMuch(path, "nests structs too deeply", this.limits.maxStructDepth);
    const o = this.object(value, path);
    const fields = o["fields"];
    const subsections = o["subsections"] ?? [];
    if (fields !== undefined && !Array.isArray(fields)) throw this.bad(path, "has fields that are not an array");
    if (!Array.isArray(subsections)) throw this.bad(path, "has subsections that are not an array");
    return {
      vmsdName: this.name(o["vmsd_name"], `${path}.vmsd_name`),
      version: this.integer(o["version"] ?? 0, `${path}.version`, 0xffff_ffff),
      fields: fields?.map((field, i) => this.field(field, `${path}.fields[${i}]`, depth)),
      subsections: subsections.map((sub, i) => this.vmsd(sub, `${path}.subsections[${i}]`, depth + 1)),
    };
  }

  private field(value: unknown, path: string, depth: number): FieldDesc {
    const o = this.object(value, path);
    const field: FieldDesc = {
      name: this.name(o["name"], `${path}.name`),
      type: this.name(o["type"], `${path}.type`),
      size: this.integer(o["size"], `${path}.size`, 0x7fff_ffff),
    };
    if (o["array_len"] !== undefined) field.arrayLen = this.integer(o["array_len"], `${path}.array_len`, 0x7fff_ffff);
    if (o["index"] !== undefined) field.index = this.integer(o["index"], `${path}.index`, 0x7fff_ffff);
    // VMS_STRUCT nests its layout under "struct"; writers that call vmstate_save_state themselves
    // (vstruct, tmp, qtailq, ...) print vmsd_name/fields into the field object.
    if (o["struct"] !== undefined) field.struct = this.vmsd(o["struct"], `${path}.struct`, depth + 1);
    else if (o["fields"] !== undefined) field.inline = this.vmsd(o, path, depth + 1);
    return field;
  }

  private pageSize(value: unknown): number {
    const size = this.integer(value, "page_size", 1 << 30);
    if (size < 512 || (size & (size - 1)) !== 0) throw this.bad("page_size", `is ${size}, not a power of two ≥ 512`);
    return size;
  }

  private object(value: unknown, path: string): Json {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.bad(path, "is not an object");
    return value as Json;
  }

  private name(value: unknown, path: string): string {
    if (typeof value !== "string") throw this.bad(path, "is not a string");
    if (value.length > this.limits.maxNameLength) throw this.tooMuch(path, `is ${value.length} characters long`, this.limits.maxNameLength);
    return value;
  }

  private integer(value: unknown, path: string, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
      throw this.bad(path, `is ${value === undefined ? "missing" : JSON.stringify(value)}, not an integer in 0..${max}`);
    }
    return value;
  }

  private bad(path: string, why: string) {
    return streamError(this.offset, `vmdesc ${path} ${why}`, { vmdescPath: path });
  }

  private tooMuch(path: string, why: string, limit: number) {
    return limitError(this.offset, `vmdesc ${path} ${why}`, limit);
  }
}
