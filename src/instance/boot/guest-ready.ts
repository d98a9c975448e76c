import type { RunningVm, WaitReadyOptions } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/** Waits until the guest agent answers, failing at once (with the VMM's reason) if the VMM exits first. */
export async function waitGuestReady(vm: RunningVm, timeoutMs: number, options: WaitReadyOptions = {}): Promise<void> {
  const exited = vm.exited.then((exit) => {
    throw new SnapvmError(ErrorCode.QemuFailed, `instance "${vm.spec.name}": ${exit.reason}`, { details: { instance: vm.spec.name } });
  });
  exited.catch(() => undefined);
  const guest = await vm.guest();
  await Promise.race([guest.waitReady(timeoutMs, options), exited]);
}
