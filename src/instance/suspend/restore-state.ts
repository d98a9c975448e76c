import { rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { driver, type RunningVm } from "../../driver/index.ts";
import { guestAccessOf } from "../../config/launch-spec.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { STATE_FILE_NAMES, type InstancePaths } from "../../paths/index.ts";
import type { GuestIdentity, StateManifest } from "../../snapshot/manifest.ts";
import { fileSizes, sha256File } from "../../util/file-facts.ts";
import { shellQuote } from "../../util/shell-quote.ts";
import { failPoint, faultPoint } from "../../util/fault-point.ts";
import { trace } from "../../util/trace.ts";
import type { BootHooks, BootedVm } from "../boot/cold-boot.ts";
import { waitGuestReady } from "../boot/guest-ready.ts";
import { hostForwardsOf } from "../boot/host-ports.ts";
import { ForwardFailureWatch } from "../boot/port-refusal.ts";

function incompatible(why: string): SnapvmError {
  return new SnapvmError(ErrorCode.StateIncompatible, `the saved state cannot be loaded here: ${why}`);
}

/**
 * Cheap checks (no reading of file contents) that must pass before QEMU may open the state's files.
 * A failure means the state itself is at fault (it is moved aside); what the host lacks is
 * checkHostResources' refusal, which leaves the state where it is.
 */
export async function checkRestorable(paths: InstancePaths, manifest: StateManifest): Promise<void> {
  // A state saved under KVM does not load under TCG and vice versa (DESIGN.md §2, gotcha 4); a TCG
  // state restores under TCG anywhere, as the pinned argv names the accelerator, so only a KVM
  // state needs the host probed (reading /proc/cpuinfo costs ~25 ms).
  if (manifest.accel === "kvm") {
    const accel = (await driver.host.chooseAccel("auto")).accel;
    if (accel !== "kvm") throw incompatible(`it was saved under ${manifest.accel}, this host runs ${accel}`);
  }
  for (const file of manifest.files) {
    // resolve: a fork's state names its template's RAM file by absolute path.
    const sizes = await fileSizes(resolve(paths.suspendDir, file.name)).catch(() => undefined);
    if (sizes === undefined) throw incompatible(`${file.name} is missing`);
    if (sizes.apparentBytes !== file.sizeBytes) throw incompatible(`${file.name} is ${sizes.apparentBytes} bytes, the manifest says ${file.sizeBytes}`);
  }
  // The kernel, initrd and disk the launch names are the host's to supply: checkHostResources.
}

/** The files' digests, where the manifest has them: run while QEMU starts (~10–60 ms, crypto's first use included). */
export async function verifyDigests(paths: InstancePaths, manifest: StateManifest): Promise<void> {
  await Promise.all(
    manifest.files.map(async (file) => {
      if (file.sha256 !== undefined && (await sha256File(resolve(paths.suspendDir, file.name))) !== file.sha256)
        throw incompatible(`${file.name} does not match its digest`);
    }),
  );
}

/**
 * Restores a suspended VM: the pinned argv with `-incoming defer`, once `checked` (checkRestorable and
 * whatever else the caller must know first) has resolved load the state, `cont` (a VM saved after
 * `stop` comes back paused), wait for the guest, set its clock. The state is consumed only once the
 * guest answered. From `cont` on the guest runs on the RAM file and the disk, so the state no longer
 * matches them: suspend/RESUMED is written just before `cont` to say so, and a failure after it
 * carries `details.guestRan` (the caller keeps the state aside with that reason; it is never restored
 * again). A failure before `cont` leaves the state as restorable as it was.
 */
export async function restoreSuspended(
  manifest: StateManifest,
  paths: InstancePaths,
  checked: Promise<{ timeoutMs: number }>,
  hooks: BootHooks,
): Promise<BootedVm> {
  const spec = manifest.launch.spec;
  const fileBacked = manifest.files.some((f) => f.role === "device-state");
  hooks.onProgress("restoring");
  const started = performance.now();
  // QEMU starts before `checked` ends (it overlaps QEMU's ~50 ms start-up; `-incoming defer` touches
  // no guest memory); a failed check kills it, and explains a failed start better than QEMU can.
  checked.catch(() => undefined);
  const watch = new ForwardFailureWatch(hooks.onQemuStderr);
  let vm: RunningVm;
  try {
    vm = await driver.launcher.start(spec, { incoming: true, ...manifest.launch.argvOptions, onStderrLine: watch.onLine });
  } catch (error) {
    await checked;
    // A port taken since checkHostResources: QEMU exits at once, the state is as good as before.
    throw (await watch.refusal(spec.name, hostForwardsOf(spec), "restore")) ?? error;
  }
  hooks.onQemuUp?.(vm);
  trace("restore: QEMU up");
  let guestRan = false;
  try {
    const { timeoutMs } = await checked;
    // Checked against the running binary's greeting: free, and exact about what will load the state.
    if (vm.version !== manifest.qemuVersion) throw incompatible(`it was saved by QEMU ${manifest.qemuVersion}, this host runs ${vm.version}`);
    const stateFile = join(paths.suspendDir, fileBacked ? STATE_FILE_NAMES.deviceState : STATE_FILE_NAMES.memoryStream);
    hooks.onProgress("loading the state");
    await driver.state.load(vm, stateFile, fileBacked ? "device-state" : "full-ram", timeoutMs);
    faultPoint("restore:before-cont");
    // Not fsynced (it would cost the resume a journal commit): after a host crash QEMU is gone too,
    // and a RAM file the guest wrote through is no worse than one a crash mid-save leaves.
    await writeFile(paths.suspendResumed, "");
    guestRan = true;
    await vm.resume();
    trace("restore: cont");
    faultPoint("restore:after-cont");
    hooks.onProgress("waiting for the guest");
    await failPoint("restore:guest-ready");
    await waitGuestReady(vm, timeoutMs, { resumed: true });
    trace("restore: guest ready");
    await consumeState(paths);
    const warn = (what: string) => (error: unknown) => {
      hooks.onWarning?.(`could not set the guest's ${what}: ${error instanceof Error ? error.message : String(error)}`);
    };
    const guest = await vm.guest();
    if (guest.route() === "qemu-guest-agent") {
      // Exact, and awaited: the restore returns with the guest's clock within a few ms of the host's
      // (qga/guest-clock.ts). A fork's identity follows, not awaited.
      hooks.onProgress("setting the guest's clock");
      await guest.syncClock().catch(warn("clock"));
      trace("restore: clock set");
      if (manifest.identity !== undefined) applyIdentity(vm, manifest.identity, { clock: false }).catch(warn("identity"));
    } else {
      // Not awaited: the guest agent serves requests one at a time, in order, so every command sent
      // after this one already sees the corrected clock. Awaiting it would add the guest's first fork
      // (~0.1 s under TCG, which translates fork and exec anew after a restore) to every resume.
      // A fork's identity rides in the same request as its clock: one guest request per fork, not two.
      const settle = manifest.identity === undefined ? syncGuestClock(vm) : applyIdentity(vm, manifest.identity, { clock: true });
      settle.catch(warn(manifest.identity === undefined ? "clock" : "clock and identity"));
    }
    return { vm, accelReason: manifest.launch.accelReason, readyMs: performance.now() - started, launch: manifest.launch };
  } catch (error) {
    vm.kill();
    await vm.exited;
    throw new SnapvmError(ErrorCode.RestoreFailed, `restoring instance "${spec.name}" failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      details: { instance: spec.name, guestRan },
    });
  }
}

/** The guest's clock stood still while it was suspended; set it from the host's. */
export async function syncGuestClock(vm: RunningVm): Promise<void> {
  await (await vm.guest()).syncClock();
}

/** Runs a command as root: the tiny guest's agent is root; over SSH the user goes through sudo (cloud-init grants it). */
async function asRoot(vm: RunningVm, command: string, what: string): Promise<void> {
  const guest = await vm.guest();
  const viaSsh = guestAccessOf(vm.spec).kind === "ssh";
  const result = await guest.exec(viaSsh ? `sudo -n sh -c ${shellQuote([command])}` : command, { timeoutMs: 10_000 });
  if (result.exitCode !== 0) throw new Error(`${what} exited with ${result.exitCode}: ${result.stderr.toString("utf8").trim()}`);
}

/**
 * A fork's own name and MAC, and its clock to the second when `clock` (no exact route). The template's MAC comes back with the state whatever the command line
 * says, so it is set in the guest; a packet out makes user-mode networking learn it (DESIGN.md §3a).
 * Ordered like the clock: commands sent later run after it.
 */
async function applyIdentity(vm: RunningVm, identity: GuestIdentity, options: { clock: boolean }): Promise<void> {
  const script = [
    ...(options.clock ? [`date -u -s @${Math.round(Date.now() / 1000)} >/dev/null`] : []),
    `hostname ${shellQuote([identity.hostname])}`,
    `echo ${shellQuote([identity.hostname])} > /etc/hostname`,
    `ip link set dev eth0 address ${shellQuote([identity.mac])} 2>/dev/null`,
    "ping -c 1 -W 1 10.0.2.2 >/dev/null 2>&1",
    "true",
  ].join("; ");
  await asRoot(vm, script, "setting the clock, hostname and MAC");
}

async function consumeState(paths: InstancePaths): Promise<void> {
  await rm(paths.suspendDir, { recursive: true, force: true });
}

/** What a failed state's REASON adds when the guest ran on it. */
export const GUEST_RAN_REASON =
  "the guest ran after the restore; memory has moved on (its RAM file and disk no longer match this state, which is kept but cannot be restored faithfully)";

/** Whether a restore resumed the guest on this state (suspend/RESUMED): it must not be restored again. */
export function stateWasResumed(paths: InstancePaths): boolean {
  return existsSync(paths.suspendResumed);
}

export { moveStateAside } from "./failed-states.ts";
