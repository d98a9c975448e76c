/**
 * Crash-testing hook: when SNAPVM_FAULT_POINT names this point, the process kills itself with
 * SIGKILL right here, as a power cut or OOM kill would. Tests use it to prove that every step of a
 * save or restore leaves an instance that starts. Costs one environment lookup otherwise.
 */
export function faultPoint(name: string): void {
  if (process.env["SNAPVM_FAULT_POINT"] === name) process.kill(process.pid, "SIGKILL");
}

/**
 * Failure-testing hook: when SNAPVM_FAIL_POINT names this point, the step throws here, as a full
 * disk or a QEMU error would. Tests use it to prove that a failing leg leaves the guest running and
 * no partial snapshot behind.
 */
export async function failPoint(name: string): Promise<void> {
  if (process.env["SNAPVM_FAIL_POINT"] === name) throw new Error(`injected failure at ${name}`);
  return Promise.resolve();
}

/**
 * Hang-testing hook: when SNAPVM_FAULT_WAIT names this point, the step never completes, as a QEMU
 * that stops answering in the middle of a save would. Tests use it to prove that `stop --force`
 * preempts a stuck operation. Resolves at once otherwise.
 */
export function faultWait(name: string): Promise<void> {
  if (process.env["SNAPVM_FAULT_WAIT"] === name) return new Promise<void>(() => undefined);
  return Promise.resolve();
}
