import { randomBytes } from "node:crypto";
import { closeSync, ftruncateSync, mkdtempSync, openSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PinnedLaunch } from "./launch.ts";
import { STATE_FORMAT, type StateManifest } from "./manifest.ts";
import { MANIFEST_NAME } from "../paths/index.ts";

/** Test fixtures for the compression tests: a snapshot manifest and a state directory with a sparse RAM file. */

export const RAM_BYTES = 64 * 1024 * 1024;

/** A snapshot manifest as snapshot-write.ts makes one, format 1.0.0 (before compression existed). */
export function sampleManifest(): StateManifest {
  return {
    format: STATE_FORMAT,
    formatVersion: "1.0.0",
    kind: "snapshot",
    createdAt: "2026-11-22T10:00:00.000Z",
    snapvmVersion: "0.1.0",
    qemuVersion: "10.0.2",
    accel: "tcg",
    machine: "q35",
    cpuModel: "max",
    memory: { backing: "file", sizeBytes: RAM_BYTES },
    launch: { argv: ["qemu-system-x86_64"], spec: {} } as unknown as PinnedLaunch,
    files: [
      { name: "memory.ram", role: "memory", sizeBytes: RAM_BYTES, allocatedBytes: 4096 },
      { name: "devices.state", role: "device-state", sizeBytes: 300, allocatedBytes: 4096, sha256: "ab".repeat(32) },
    ],
    pauseMs: 12,
    parent: null,
    snapshot: { tag: "warm", diskLayer: "L1", hasMemory: true, live: true, memoryCopy: "sparse-copy" },
  };
}

/**
 * A snapshot directory in a fresh temp dir: a 64 MiB RAM file that is mostly hole, with 4 MiB of
 * random bytes, 1 MiB of a repeated byte and 1 MiB of written zeros; a device state; the manifest
 * listing both with their real sizes.
 */
export function makeStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-compress-"));
  const fd = openSync(join(dir, "memory.ram"), "w");
  ftruncateSync(fd, RAM_BYTES);
  writeSync(fd, randomBytes(4 * 1024 * 1024), 0, 4 * 1024 * 1024, 8 * 1024 * 1024);
  writeSync(fd, Buffer.alloc(1024 * 1024, 0x5a), 0, 1024 * 1024, 20 * 1024 * 1024);
  writeSync(fd, Buffer.alloc(1024 * 1024, 0), 0, 1024 * 1024, 40 * 1024 * 1024);
  closeSync(fd);
  writeFileSync(join(dir, "devices.state"), Buffer.alloc(300, 1));
  const manifest = sampleManifest();
  manifest.files = [
    { name: "memory.ram", role: "memory", sizeBytes: RAM_BYTES, allocatedBytes: 6 * 1024 * 1024 },
    { name: "devices.state", role: "device-state", sizeBytes: 300, allocatedBytes: 4096 },
  ];
  writeFileSync(join(dir, MANIFEST_NAME), JSON.stringify(manifest));
  return dir;
}
