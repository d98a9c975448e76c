import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import type { InstanceName } from "../../paths/index.ts";
import { describeForward, hostForwardsOf, probePort } from "../boot/host-ports.ts";
import { claimNewInstance } from "../lifecycle/new-instance.ts";
import { readPortClaims, refuseClaimedPorts } from "../lifecycle/port-claims.ts";
import type { Offer } from "./protocol.ts";

/**
 * Test hook, honoured only here: the QEMU version this host reports to a migration's preflight, so a
 * test can show the refusal of another version (like SNAPVM_FAULT_POINT, never set in production).
 */
const FAKE_VERSION_ENV = "SNAPVM_TEST_MIGRATION_QEMU_VERSION";

function refused(name: string, why: string, hint: string, details: Record<string, unknown> = {}, cause?: unknown): SnapvmError {
  return new SnapvmError(ErrorCode.MigrationRefused, `the destination cannot take instance "${name}": ${why}; nothing was moved`, {
    hint,
    details: { instance: name, ...details },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** This host's QEMU version as a migration's checks see it. */
export async function localVmmVersion(): Promise<string> {
  return process.env[FAKE_VERSION_ENV] ?? (await driver.host.vmmVersion());
}

/**
 * The destination's checks before anything moves: the same QEMU version and accelerator as the source
 * (a migration stream only loads into the same QEMU, DESIGN.md §2 gotcha 4), the name free here, and
 * every host port the instance forwards free here (bindable now and claimed by no instance of this home).
 */
export async function preflight(offer: Offer, name: InstanceName, home: string): Promise<void> {
  const local = await localVmmVersion();
  if (local !== offer.qemuVersion)
    throw refused(name, `it runs QEMU ${offer.qemuVersion} and this host runs QEMU ${local}`, `Install QEMU ${offer.qemuVersion} on the destination.`, {
      source: offer.qemuVersion,
      destination: local,
    });
  const accel = (await driver.host.chooseAccel(offer.accel === "kvm" ? "auto" : "tcg")).accel;
  if (accel !== offer.accel)
    throw refused(name, `it runs under ${offer.accel} and this host offers ${accel}`, "Migrate between hosts with the same accelerator.", {
      source: offer.accel,
      destination: accel,
    });
  try {
    claimNewInstance(name, home);
    const forwards = hostForwardsOf(offer.launch.spec);
    refuseClaimedPorts(`instance "${name}"`, forwards, await readPortClaims(home), "");
    const probes = await Promise.all(forwards.map(probePort));
    const busy = forwards.filter((_, i) => probes[i]?.free === false);
    if (busy.length > 0) throw new SnapvmError(ErrorCode.PortInUse, `host port ${busy.map(describeForward).join(", ")} is in use`);
  } catch (error) {
    if (!isSnapvmError(error)) throw error;
    throw refused(
      name,
      error.message,
      "Free the name or the ports on the destination (or delete the instance there), then migrate again.",
      error.details,
      error,
    );
  }
}
