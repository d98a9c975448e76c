/**
 * Crash-testing hook: when SNAPVM_FAULT_POINT names this point, the process kills itself with
 * SIGKILL right here, as a power cut or OOM kill would. Tests use it to prove that every step of a
 * save or restore leaves an instance that starts. Costs one environment lookup otherwise.
 */
export function faultPoint(name: string): void {
  if (process.env["SNAPVM_FAULT_POINT"] === name) process.kill(process.pid, "SIGKILL");
}
