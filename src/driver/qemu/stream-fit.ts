import { formatSize } from "../../config/sizes.ts";
import { MEMORY_BACKEND_ID } from "./argv.ts";
import type { StreamLayout } from "../driver.ts";
import type { MigrationCapability } from "./migrate.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { StreamReport } from "../../snapshot/stream/index.ts";

function incompatible(file: string, why: string, hint: string, details: Record<string, unknown> = {}): SnapvmError {
  return new SnapvmError(ErrorCode.StateIncompatible, `${file} cannot be imported: ${why}`, { hint, details: { path: file, ...details } });
}

const ARGS_HINT = "Give the QEMU arguments the stream was saved with (the source instance's boot/launch.json argv).";

/**
 * Checks, before anything is written, that a decoded stream will load into the QEMU the arguments
 * describe, and returns the capabilities to load it with (they must match the ones it was saved
 * with, see streamCapabilities). QEMU would refuse a mismatch too, but only after creating the instance and half-loading
 * the RAM, and with a less direct message ("Unknown ramblock", "Length mismatch").
 */
export function checkStreamFits(report: StreamReport, memoryBytes: number, file: string): StreamLayout {
  const configuration = report.configuration;
  if (configuration === null) {
    throw incompatible(file, "it has no configuration record, so its machine type is unknown", "Import a stream QEMU wrote for a q35 machine.");
  }
  if (!configuration.machineType.startsWith("pc-q35-")) {
    throw incompatible(file, `it was saved from machine ${configuration.machineType}; snapvm runs q35 (pc-q35-*)`, ARGS_HINT, {
      machineType: configuration.machineType,
    });
  }
  if (configuration.capabilities.includes("x-ignore-shared")) {
    throw incompatible(
      file,
      "it holds device state only (saved with x-ignore-shared): the guest RAM is in a memory file the stream does not carry",
      'Import a stream with the RAM in it, e.g. from `migrate "exec:gzip -c > STATE.gz"` without x-ignore-shared.',
    );
  }
  const ram = report.ram;
  if (ram === undefined || ram.blocks.length === 0) {
    throw incompatible(file, "it has no RAM section", "Import a complete stream from QEMU's `migrate`, not a device-state-only file.");
  }
  const blocks = ram.blocks.map((b) => `${b.name} (${formatSize(b.sizeBytes)})`).join(", ");
  const main = ram.blocks.find((b) => b.name === MEMORY_BACKEND_ID);
  if (main === undefined) {
    throw incompatible(
      file,
      `its RAM blocks are ${blocks}; snapvm's guest RAM is the block "${MEMORY_BACKEND_ID}" (memory backend id=${MEMORY_BACKEND_ID}), which it lacks`,
      'The stream was saved from a QEMU whose RAM was not snapvm\'s memory backend (plain -m RAM is "pc.ram"); it loads only into that QEMU.',
      { blocks: ram.blocks.map((b) => ({ name: b.name, sizeBytes: b.sizeBytes })) },
    );
  }
  if (main.sizeBytes !== memoryBytes) {
    throw incompatible(
      file,
      `its RAM block "${MEMORY_BACKEND_ID}" is ${formatSize(main.sizeBytes)}, the QEMU arguments give ${formatSize(memoryBytes)}`,
      ARGS_HINT,
      { streamBytes: main.sizeBytes, argsBytes: memoryBytes },
    );
  }
  return { mappedRam: ram.mappedRam };
}

/** A mapped-ram stream loads only with mapped-ram on; multifd reads it in parallel (and matches snapvm's own saves). */
export function streamCapabilities(layout: StreamLayout): MigrationCapability[] {
  return layout.mappedRam ? ["mapped-ram", "multifd"] : [];
}
