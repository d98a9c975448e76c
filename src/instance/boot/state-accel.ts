import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/**
 * A state saved under KVM does not load under TCG and vice versa (DESIGN.md §2, gotcha 4): refuses,
 * before anything is written, a KVM state on a host that cannot run KVM. `what` starts the message:
 * "the stream was saved", "the snapshot was taken".
 */
export async function refuseKvmStateWithoutKvm(accel: string, what: string): Promise<void> {
  if (accel === "kvm" && (await driver.host.chooseAccel("auto")).accel !== "kvm") {
    throw new SnapvmError(ErrorCode.StateIncompatible, `${what} under kvm, which this host cannot run`, { hint: "Import it on a host with KVM." });
  }
}
