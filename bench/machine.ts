import { spawnSync } from "node:child_process";
import { cpus, loadavg, release, totalmem } from "node:os";
import { chooseAccel, probeHost } from "../src/driver/qemu/accel.ts";
import { QEMU_BINARY } from "../src/driver/qemu/argv.ts";
import { snapvmVersion } from "../src/util/snapvm-version.ts";

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  qemuVersion: string;
  accel: string;
  accelReason: string;
  /** Filesystem type and device holding the benchmark's instances and states. */
  filesystem: string;
  node: string;
  snapvm: string;
  gzip: string;
  zstd: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
  loadAverageStart: number;
  loadAverageEnd?: number;
}

function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error !== undefined) return `unavailable (${result.error.message})`;
  return (
    `${result.stdout}${result.stderr}`
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? "unknown"
  );
}

export async function machineFacts(dir: string): Promise<MachineFacts> {
  const accel = chooseAccel("auto", await probeHost());
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    kernel: release(),
    qemuVersion: firstLine(QEMU_BINARY, ["--version"]),
    accel: accel.accel,
    accelReason: accel.reason,
    filesystem: firstLine("findmnt", ["-n", "-o", "FSTYPE,SOURCE,OPTIONS", "-T", dir]),
    node: process.version,
    snapvm: snapvmVersion(),
    gzip: firstLine("gzip", ["--version"]),
    zstd: firstLine("zstd", ["--version"]),
    loadAverageStart: loadavg()[0] ?? Number.NaN,
  };
}
