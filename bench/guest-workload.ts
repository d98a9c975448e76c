import { guestRun, type RunningGuest } from "./guest/running.ts";

export const DATA_CASES = ["random", "compressible"] as const;
export type DataCase = (typeof DATA_CASES)[number];

const MiB = 1024 * 1024;
/** The dirtied data lives in tmpfs (guest RAM) as files of this size, so checks can be chunked. */
const FILE_MIB = 64;
/** One guest command handles at most this many files, keeping every request well under a minute or two. */
const FILES_PER_COMMAND = 8;
const FILL_DIR = "/tmp/fill";

/** The guest's /tmp is tmpfs at half its RAM by default: let it hold the dirtied half and more. */
export async function growTmpfs(guest: RunningGuest): Promise<void> {
  await guestRun(guest, "mount -o remount,size=90% /tmp");
}

function fileNames(bytes: number): string[][] {
  const count = Math.max(1, Math.round(bytes / (FILE_MIB * MiB)));
  const names = Array.from({ length: count }, (_, i) => String(i).padStart(4, "0"));
  const chunks: string[][] = [];
  for (let i = 0; i < names.length; i += FILES_PER_COMMAND) chunks.push(names.slice(i, i + FILES_PER_COMMAND));
  return chunks;
}

/**
 * The compressible case: text (the kernel's symbol table, then busybox's binary) cut to 4 MiB and
 * repeated. The period is longer than gzip's (32 KiB) and zstd -3's (2 MiB) windows, so the
 * compressors see text, not repeats; it compresses about as well as text does.
 */
const TEXT_BLOCK = `{ cat /proc/kallsyms; cat /bin/busybox; cat /proc/kallsyms; } | head -c ${4 * MiB} > /tmp/text.blk`;

/**
 * Dirties `bytes` of guest memory with random data (/dev/urandom, incompressible) or compressible
 * text, in tmpfs. Returns the checksums of what was written, to compare after a restore.
 */
export async function dirtyMemory(guest: RunningGuest, dataCase: DataCase, bytes: number): Promise<string> {
  await growTmpfs(guest);
  await guestRun(guest, `rm -rf ${FILL_DIR} && mkdir -p ${FILL_DIR}`);
  if (dataCase === "compressible") await guestRun(guest, TEXT_BLOCK);
  const writeOne =
    dataCase === "random"
      ? (name: string) => `dd if=/dev/urandom of=${FILL_DIR}/${name} bs=1M count=${FILE_MIB} 2>/dev/null`
      : (name: string) => `for i in $(seq ${FILE_MIB / 4}); do cat /tmp/text.blk; done > ${FILL_DIR}/${name}`;
  for (const chunk of fileNames(bytes)) await guestRun(guest, chunk.map(writeOne).join(" && "));
  if (dataCase === "compressible") await guestRun(guest, "rm /tmp/text.blk");
  return (await checksumMemory(guest, bytes)).sums;
}

/**
 * Writes the dirtied data again, in place and unchanged, so every save starts from the same guest
 * activity: half the RAM freshly written (for file-backed RAM, dirty in the host's page cache, as
 * after real use) rather than the clean pages a restore leaves. Checksums do not change.
 */
export async function redirtyMemory(guest: RunningGuest, bytes: number): Promise<void> {
  for (const chunk of fileNames(bytes)) {
    await guestRun(guest, chunk.map((name) => `dd if=${FILL_DIR}/${name} of=${FILL_DIR}/${name} bs=1M conv=notrunc 2>/dev/null`).join(" && "));
  }
}

/**
 * Overwrites the first MiB of the dirtied data with zeros: after this, only a restore that really
 * takes the guest's memory back to the saved state passes the memory check.
 */
export async function scribbleMemory(guest: RunningGuest): Promise<void> {
  const first = fileNames(1)[0]?.[0] ?? "0000";
  await guestRun(guest, `dd if=/dev/zero of=${FILL_DIR}/${first} bs=1M count=1 conv=notrunc 2>/dev/null`);
}

/** md5 of every dirtied file; reading them all also faults every page in (the cost of a lazy restore). */
export async function checksumMemory(guest: RunningGuest, bytes: number): Promise<{ sums: string; ms: number }> {
  const started = performance.now();
  let sums = "";
  for (const chunk of fileNames(bytes)) sums += await guestRun(guest, `cd ${FILL_DIR} && md5sum ${chunk.join(" ")}`);
  return { sums, ms: performance.now() - started };
}

export interface WriteThroughput {
  /** MB/s writing into guest RAM that the host has never backed (first touch). */
  firstTouchMBps: number;
  /** MB/s writing the same amount again after freeing it (pages already backed on the host). */
  rewriteMBps: number;
}

/** A guest-side memory-write workload: fill tmpfs with zeros (the host still sees every page written), free, refill. */
export async function writeWorkload(guest: RunningGuest, bytes: number): Promise<WriteThroughput> {
  await growTmpfs(guest);
  const mib = Math.max(1, Math.round(bytes / MiB));
  const write = `dd if=/dev/zero of=/tmp/workload bs=1M count=${mib} 2>/dev/null`;
  const timed = async (command: string): Promise<number> => {
    const started = performance.now();
    await guestRun(guest, command);
    return (mib * MiB) / 1e6 / ((performance.now() - started) / 1000);
  };
  const firstTouchMBps = await timed(write);
  const rewriteMBps = await timed(`rm /tmp/workload && ${write}`);
  await guestRun(guest, "rm /tmp/workload");
  return { firstTouchMBps, rewriteMBps };
}
