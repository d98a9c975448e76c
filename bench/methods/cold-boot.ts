import { rm } from "node:fs/promises";
import type { LaunchSpec, MemoryBacking } from "../../src/config/launch-spec.ts";
import type { BenchHome } from "../home.ts";
import { memoryOf } from "../host.ts";
import { probe, type QemuGuest } from "../guest/running.ts";
import { startQemu } from "../qemu/raw.ts";
import type { BootMethod, RestoreFigures } from "./types.ts";

export const COLD_BOOT: BootMethod = { kind: "boot", id: "cold-boot" };

/**
 * A cold boot of the same guest (same spec, fresh RAM): QEMU spawned → the guest answers a command.
 * Leaves the guest running for the caller (the RAM-backing workload runs on it), who quits it.
 */
export async function coldBoot(home: BenchHome, spec: LaunchSpec, backing: MemoryBacking): Promise<{ figures: RestoreFigures; guest: QemuGuest }> {
  const booting: LaunchSpec = { ...spec, memoryBacking: backing };
  await rm(booting.memoryPath, { force: true });
  const started = performance.now();
  const guest = await startQemu(home, booting, false);
  try {
    // Pings every 250 ms, as snapvm's own cold boot does.
    await (await guest.vm.guest()).waitReady(120_000);
    const ready = performance.now();
    await probe(guest);
    const answered = performance.now();
    const memory = memoryOf(guest.vm.pid);
    return { guest, figures: { answerMs: answered - started, qemuRssKiB: memory.rssKiB, qemuPssKiB: memory.pssKiB, extra: { toReadyMs: ready - started } } };
  } catch (error) {
    guest.vm.kill();
    throw error;
  }
}
