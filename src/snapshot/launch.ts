import type { LaunchSpec } from "../config/launch-spec.ts";

/**
 * What a VM booted with, pinned in boot/ at cold boot: a restore must use exactly this (the same
 * devices and memory layout), whatever snapvm.yaml says by then.
 */
export interface PinnedLaunch {
  spec: LaunchSpec;
  /** Options the argv was built with; a fork maps its template's RAM file copy-on-write (shareMemory false). */
  argvOptions?: { shareMemory?: boolean };
  argv: string[];
  qemuVersion: string;
  accelReason: string;
  bootedAt: string;
}
