import type { MethodId } from "./catalog.ts";
import { diyExport } from "./diy-export.ts";
import { gistGzip } from "./gist-gzip.ts";
import { gistZstd } from "./gist-zstd.ts";
import { qemuClones } from "./qemu-clones.ts";
import { qemuIgnoreShared } from "./qemu-ignore-shared.ts";
import { qemuMappedRam } from "./qemu-mapped-ram.ts";
import { snapvmApi } from "./snapvm-api.ts";
import { snapvmCli } from "./snapvm-cli.ts";
import { snapvmExport } from "./snapvm-export.ts";
import { snapvmFork } from "./snapvm-fork.ts";
import { snapvmOffload } from "./snapvm-offload.ts";
import { snapvmSnapshot } from "./snapvm-snapshot.ts";
import type { MethodFactory } from "./types.ts";

/**
 * The methods a chain runs on its one guest, in chain order: a guest moves from snapvm's agent to a
 * raw QEMU with file-backed RAM to one with anonymous RAM, never back (guest/convert.ts), so every
 * snapvm method comes first.
 */
export const CHAIN_METHODS: readonly (readonly [MethodId, MethodFactory])[] = [
  ["snapvm-cli", snapvmCli],
  ["snapvm-api", snapvmApi],
  ["snapvm-snapshot", snapvmSnapshot],
  ["snapvm-fork", snapvmFork],
  ["snapvm-export", snapvmExport],
  ["diy-export", diyExport],
  ["snapvm-offload", snapvmOffload],
  ["qemu-clones", qemuClones],
  ["qemu-ignore-shared", qemuIgnoreShared],
  ["qemu-mapped-ram", qemuMappedRam],
  ["gist-zstd", gistZstd],
  ["gist-gzip", gistGzip],
];
