import type { QemuVm } from "../../driver/qemu/vm.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { describeExit } from "../../driver/qemu/process.ts";

/** Waits until the guest agent answers, failing at once (with QEMU's reason) if QEMU exits first. */
export async function waitGuestReady(vm: QemuVm, timeoutMs: number): Promise<void> {
  const exited = vm.exited.then((exit) => {
    throw new SnapvmError(ErrorCode.QemuFailed, `instance "${vm.spec.name}": ${describeExit(exit)}`, { details: { instance: vm.spec.name } });
  });
  exited.catch(() => undefined);
  const guest = await vm.guest();
  await Promise.race([guest.waitReady(timeoutMs), exited]);
}
