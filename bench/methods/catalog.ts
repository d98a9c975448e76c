/** Every method the benchmark knows, in the order a chain runs them and the table lists them. */
export const METHOD_IDS = [
  "snapvm-cli", "snapvm-api", "qemu-ignore-shared", "qemu-mapped-ram", "gist-zstd", "gist-gzip",
  "snapvm-snapshot", "snapvm-fork", "cold-boot", "snapvm-cold-start",
] as const;
export type MethodId = (typeof METHOD_IDS)[number];

/** The gist everything is compared with. */
export const BASELINE: MethodId = "gist-gzip";

export const METHOD_LABELS: Record<MethodId, string> = {
  "snapvm-cli": "snapvm stop / start (CLI)",
  "snapvm-api": "snapvm agent API (no CLI)",
  "qemu-ignore-shared": "QEMU file RAM + x-ignore-shared (raw)",
  "qemu-mapped-ram": "QEMU file: mapped-ram + multifd",
  "gist-zstd": "gist with zstd -T0",
  "gist-gzip": "gist: exec gzip (baseline)",
  "snapvm-snapshot": "snapvm live snapshot",
  "snapvm-fork": "snapvm fork ×1/4/16",
  "cold-boot": "cold boot, raw QEMU (reference)",
  "snapvm-cold-start": "cold boot, snapvm start (reference)",
};
