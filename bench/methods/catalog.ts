/** Every method the benchmark knows, in the order a chain runs them and the table lists them. */
export const METHOD_IDS = [
  "snapvm-cli",
  "snapvm-api",
  "snapvm-snapshot",
  "snapvm-fork",
  "snapvm-export",
  "diy-export",
  "snapvm-offload",
  "qemu-clones",
  "qemu-ignore-shared",
  "qemu-mapped-ram",
  "gist-zstd",
  "gist-gzip",
  "cold-boot",
  "snapvm-cold-start",
  "snapvm-migrate",
  "cloud-guest",
] as const;
export type MethodId = (typeof METHOD_IDS)[number];

/** The methods that move a snapshot's state off the instance and back: their own table (report/transfer-table.ts), plain and encrypted rows. */
export const TRANSFER_METHOD_IDS: readonly MethodId[] = ["snapvm-export", "diy-export", "snapvm-offload"];

/** Methods `--quick` leaves out unless named: the transfers, and migration between two hosts (minutes, needs root). */
export const SLOW_METHOD_IDS: readonly MethodId[] = [...TRANSFER_METHOD_IDS, "snapvm-migrate"];
/**
 * Methods that run only when named in --methods: the cloud guest needs the Debian cloud test image
 * (test/vm/cloud-image.ts: built once, minutes, root) and its own guest; it has its own table.
 */
export const OPT_IN_METHOD_IDS: readonly MethodId[] = ["cloud-guest"];

/** The gist everything is compared with. */
export const BASELINE: MethodId = "gist-gzip";

export const METHOD_LABELS: Record<MethodId, string> = {
  "snapvm-cli": "snapvm stop / start (CLI)",
  "snapvm-api": "snapvm agent API (no CLI)",
  "snapvm-snapshot": "snapvm live snapshot / snapshot restore",
  "snapvm-fork": "snapvm fork",
  "snapvm-export": "snapvm snapshot export → import",
  "diy-export": "cp --sparse=always; tar -cS | zstd -T0 -3 (DIY baseline)",
  "snapvm-offload": "snapvm snapshot create --to (live offload) → import",
  "qemu-clones": "raw QEMU clones (RAM file share=off + x-ignore-shared)",
  "qemu-ignore-shared": "QEMU file RAM + x-ignore-shared (raw)",
  "qemu-mapped-ram": "QEMU file: mapped-ram + multifd",
  "gist-zstd": "gist with zstd -T0",
  "gist-gzip": "gist: exec gzip (baseline)",
  "cold-boot": "cold boot, raw QEMU (reference)",
  "snapvm-cold-start": "cold boot, snapvm start (reference)",
  "snapvm-migrate": "snapvm migrate between two hosts (own table)",
  "cloud-guest": "cloud guest: Debian cloud image through qemu-guest-agent, vs SSH",
};

/** A row's label: fork rows say how many forks started together and how their figures read. */
export function methodLabel(method: MethodId, forks?: number): string {
  if (forks === undefined) return METHOD_LABELS[method];
  return `${METHOD_LABELS[method]} ×${forks} (all answering; RSS / PSS per fork, every process serving it)`;
}
