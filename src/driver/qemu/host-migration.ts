import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { HostMigration, MigrationChannels, MigrationProgress, MigrationSendOptions, MigrationSent, RunningVm } from "../driver.ts";
import { activeDisk } from "./block.ts";
import { setCapabilities, UNLIMITED_BANDWIDTH, waitForMigration } from "./migrate.ts";
import type { MigrationInfo, MigrationStatus, QmpClient, QmpTimestamp } from "./qmp/index.ts";
import { writeBackWhileIncoming } from "./ram-writeback.ts";
import { asQemuVm } from "./vm.ts";
import { faultPoint } from "../../util/fault-point.ts";

/** The destination's disk export, and the source's NBD client node and mirror job that write to it. */
const EXPORT_NAME = "snapvm-disk";
const MIRROR_TARGET = "snapvm-migrate-target";
const MIRROR_JOB = "snapvm-migrate-disk";
/**
 * The pause QEMU aims for at the switch-over. Between hosts the last pass also crosses SSH, so a
 * tighter limit than a local capture's 10 ms makes a busy guest iterate for ever under TCG.
 */
const DOWNTIME_LIMIT_MS = 50;
const PROGRESS_EVERY_MS = 500;

function epochMs(timestamp: QmpTimestamp): number {
  return timestamp.seconds * 1000 + timestamp.microseconds / 1000;
}

function progressOf(info: MigrationInfo): MigrationProgress {
  const ram = info.ram;
  return {
    transferredBytes: ram?.transferred ?? 0,
    remainingBytes: ram?.remaining ?? 0,
    bytesPerSecond: Math.round(((ram?.mbps ?? 0) * 1e6) / 8),
    dirtyBytesPerSecond: (ram?.["dirty-pages-rate"] ?? 0) * (ram?.["page-size"] ?? 4096),
    expectedDowntimeMs: info["expected-downtime"] ?? 0,
  };
}

/** Polls the mirror until it has copied everything and only follows new writes (ready). */
async function waitMirrorReady(qmp: QmpClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await qmp.execute("query-block-jobs")).find((j) => j.device === MIRROR_JOB);
    if (job === undefined) throw new SnapvmError(ErrorCode.QemuFailed, "the disk mirror to the destination ended before it was ready");
    if (job.error !== undefined) throw new SnapvmError(ErrorCode.QemuFailed, `the disk mirror to the destination failed: ${job.error}`);
    if (job.ready) return;
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.QmpTimeout, `the disk mirror was not ready within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Ends a ready mirror with the target a consistent copy (no pivot); returns the bytes it copied. A
 * cancelled ready mirror ends with BLOCK_JOB_COMPLETED, whose offset says that: no polling in the pause.
 */
async function finishMirror(qmp: QmpClient, timeoutMs: number): Promise<number> {
  const ended = qmp.waitForEvent("BLOCK_JOB_COMPLETED", { timeoutMs, predicate: (event) => event.data.device === MIRROR_JOB });
  ended.catch(() => undefined);
  await qmp.execute("block-job-cancel", { device: MIRROR_JOB });
  const event = await ended;
  if (event.data.error !== undefined) throw new SnapvmError(ErrorCode.QemuFailed, `the disk mirror to the destination failed: ${event.data.error}`);
  return event.data.offset;
}

/** Polls query-migrate at 1 ms (the switch-over waits on it) until pre-switchover; reports progress twice a second. */
/** Returns whether it switched to post-copy (it does after the first pass when asked). */
async function waitPreSwitchover(qmp: QmpClient, options: MigrationSendOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let reported = 0;
  let postcopyStarted = false;
  for (;;) {
    const info = await qmp.execute("query-migrate");
    faultPoint("migrate:precopy");
    if (info.status === "pre-switchover") return postcopyStarted;
    // The first pass is over once RAM was synced twice (the start and the end of the pass).
    // At once (a remote lazy fork): QEMU switches as soon as only RAM is left, sending none before.
    const firstPassOver = options.postcopyAtOnce === true || (info.ram?.["dirty-sync-count"] ?? 0) >= 2;
    if (options.postcopy === true && !postcopyStarted && (info.status === "active" || info.status === "setup") && firstPassOver) {
      await qmp.execute("migrate-start-postcopy");
      postcopyStarted = true;
    }
    if (info.status === "failed" || info.status === "cancelled")
      throw new SnapvmError(ErrorCode.QemuFailed, `the migration failed: ${info["error-desc"] ?? info.status}`);
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.QmpTimeout, `the migration did not reach its switch-over within ${options.timeoutMs} ms`);
    if (options.onProgress !== undefined && Date.now() - reported >= PROGRESS_EVERY_MS && info.ram !== undefined) {
      reported = Date.now();
      options.onProgress(progressOf(info));
    }
    await sleep(1);
  }
}

async function send(vm: RunningVm, channels: MigrationChannels, options: MigrationSendOptions): Promise<MigrationSent> {
  const { qmp } = asQemuVm(vm);
  const disk = await activeDisk(qmp);
  let targetAdded = false;
  let mirroring = false;
  let postcopyRunning = false;
  try {
    await qmp.execute("blockdev-add", { driver: "nbd", "node-name": MIRROR_TARGET, server: { type: "unix", path: channels.disk }, export: EXPORT_NAME });
    targetAdded = true;
    await qmp.execute("blockdev-mirror", { "job-id": MIRROR_JOB, device: disk.nodeName, target: MIRROR_TARGET, sync: "top" });
    mirroring = true;
    await waitMirrorReady(qmp, options.timeoutMs);
    // x-ignore-shared stays off: the destination's RAM file is another file (DESIGN.md §6). Post-copy
    // also refuses it, multifd and mapped-ram; pause-before-switchover holds its switch too.
    await setCapabilities(qmp, options.postcopy === true ? ["pause-before-switchover", "postcopy-ram"] : ["pause-before-switchover"]);
    await qmp.execute("migrate-set-parameters", { "max-bandwidth": options.bandwidth ?? UNLIMITED_BANDWIDTH, "downtime-limit": DOWNTIME_LIMIT_MS });
    const stop = qmp.waitForEvent("STOP", { timeoutMs: options.timeoutMs });
    stop.catch(() => undefined);
    await qmp.execute("migrate", { uri: `unix:${channels.state}` });
    const postcopy = await waitPreSwitchover(qmp, options);
    const stoppedAt = epochMs((await stop).timestamp);
    // The guest is paused: the mirror has nothing left to follow, and its target matches this instant.
    const diskBytes = await finishMirror(qmp, options.timeoutMs);
    mirroring = false;
    await qmp.execute("migrate-continue", { state: "pre-switchover" });
    // From here under post-copy the destination runs the guest: this side must never resume it.
    postcopyRunning = postcopy;
    // The NBD client goes after the pause: nothing writes to it once its mirror ended.
    await qmp.execute("blockdev-del", { "node-name": MIRROR_TARGET });
    targetAdded = false;
    if (postcopy) await waitPostcopy(qmp, options.timeoutMs);
    else await waitForMigration(qmp, "finishing the migration", options.timeoutMs);
    const info = await qmp.execute("query-migrate");
    return { stoppedAt, bytes: info.ram?.transferred ?? 0, diskBytes, postcopy, vmmDowntimeMs: info.downtime ?? 0 };
  } catch (error) {
    if (postcopyRunning) throw postcopyInterrupted(error);
    await qmp.execute("migrate_cancel").catch(() => undefined);
    if (mirroring) await qmp.execute("block-job-cancel", { device: MIRROR_JOB, force: true }).catch(() => undefined);
    if (targetAdded) await removeTarget(qmp);
    const status = await qmp.execute("query-status").catch(() => undefined);
    if (status !== undefined && !status.running) await qmp.execute("cont").catch(() => undefined);
    throw error;
  }
}

/** Waits for a post-copy to complete; a paused one (the link broke) or a failed one throws. */
async function waitPostcopy(qmp: QmpClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await qmp.execute("query-migrate");
    if (info.status === "completed") return;
    if (info.status === "postcopy-paused" || info.status === "failed" || info.status === "cancelled")
      throw new SnapvmError(ErrorCode.QemuFailed, `the post-copy stopped (${info.status}${info["error-desc"] === undefined ? "" : `: ${info["error-desc"]}`})`);
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.QmpTimeout, `the post-copy did not complete within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/**
 * A post-copy broken after its switch-over: the guest runs on the destination, whose missing pages
 * only this side has; neither side can go on alone (DESIGN.md §6). The guest here stays paused.
 */
function postcopyInterrupted(cause: unknown): SnapvmError {
  return new SnapvmError(
    ErrorCode.MigrationFailed,
    `the post-copy was interrupted after the switch-over (${cause instanceof Error ? cause.message : String(cause)}): the guest runs on the destination and still needs pages from this host, which keeps it paused`,
    {
      hint: "Keep both hosts up; once the link is back, `snapvm migrate NAME --resume` finishes it (QEMU's post-copy recovery).",
      cause,
      details: { guest: "destination", postcopyInterrupted: true },
    },
  );
}

/** The NBD client node goes once its mirror job has (the job holds it until then). */
async function removeTarget(qmp: QmpClient): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const jobs = await qmp.execute("query-block-jobs").catch(() => []);
    if (!jobs.some((j) => j.device === MIRROR_JOB)) break;
    await sleep(10);
  }
  await qmp.execute("blockdev-del", { "node-name": MIRROR_TARGET }).catch(() => undefined);
}

async function listen(vm: RunningVm, channels: MigrationChannels, options: { postcopy: boolean }): Promise<void> {
  const { qmp } = asQemuVm(vm);
  const disk = await activeDisk(qmp);
  await qmp.execute("nbd-server-start", { addr: { type: "unix", data: { path: channels.disk } } });
  await qmp.execute("block-export-add", { type: "nbd", id: EXPORT_NAME, "node-name": disk.nodeName, writable: true, name: EXPORT_NAME });
  await setCapabilities(qmp, options.postcopy ? ["postcopy-ram"] : []);
  // MIGRATION events tell accept() the switch-over at once (see there).
  await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "events", state: true }] });
  await qmp.execute("migrate-incoming", { uri: `unix:${channels.state}` });
}

/**
 * The switch-over on the destination: the disk export goes before the guest runs, as it holds the
 * disk's write permission, which the guest's device needs (libvirt does the same). Both commands go
 * at once (QMP runs them in order); the guest runs from the RESUME event, whose time this returns.
 */
async function startGuest(qmp: QmpClient): Promise<number> {
  const resumed = qmp.waitForEvent("RESUME", { timeoutMs: 30_000 });
  resumed.catch(() => undefined);
  await Promise.all([qmp.execute("nbd-server-stop"), qmp.execute("cont")]);
  return epochMs((await resumed).timestamp);
}

function switchedOver(status: MigrationStatus | undefined): boolean {
  return status === "postcopy-active" || status === "completed";
}

async function accept(
  vm: RunningVm,
  timeoutMs: number,
  onRunning: (resumedAt: number) => void,
  recoverSocket?: () => Promise<string | undefined>,
): Promise<void> {
  const { qmp } = asQemuVm(vm);
  const deadline = Date.now() + timeoutMs;
  // The VM was started frozen (-S). The MIGRATION event starts it: a query-migrate waits behind the
  // incoming stream's load in QEMU's main loop (tens of ms under load), polling stays the fallback.
  const writeback = vm.spec.memoryBacking === "file" ? writeBackWhileIncoming(vm.spec.memoryPath) : undefined;
  let starting: Promise<void> | undefined;
  const start = (): Promise<void> => {
    writeback?.stop();
    return (starting ??= startGuest(qmp).then((resumedAt) => {
      onRunning(resumedAt);
    }));
  };
  const off = qmp.onEvent("MIGRATION", (event) => {
    if (switchedOver(event.data.status)) start().catch(() => undefined);
  });
  let recovering: string | undefined;
  let askedAt = 0;
  try {
    for (;;) {
      const info = await qmp.execute("query-migrate");
      if (switchedOver(info.status)) await start();
      const running = starting !== undefined;
      const broken = info.status === "postcopy-paused" || info.status === "postcopy-active";
      if (running && broken && recoverSocket !== undefined && Date.now() - askedAt > 200) {
        askedAt = Date.now();
        const socket = await recoverSocket();
        if (socket !== undefined && socket !== recovering) {
          // A link cut sends no FIN: the stream may still look alive here; pausing it makes it recoverable.
          if (info.status === "postcopy-active") await qmp.execute("migrate-pause").catch(() => undefined);
          else {
            await qmp.execute("migrate-recover", { uri: `unix:${socket}` });
            recovering = socket;
          }
        }
      }
      if (info.status === "completed") break;
      if (info.status === "failed" || info.status === "cancelled")
        throw new SnapvmError(ErrorCode.QemuFailed, `receiving the migration failed: ${info["error-desc"] ?? info.status}`);
      // A post-copied guest runs here and only here: no deadline ends it (a paused post-copy waits for recovery).
      const postcopyHere = running && info.status !== undefined && info.status.startsWith("postcopy");
      if (!postcopyHere && Date.now() > deadline) throw new SnapvmError(ErrorCode.QmpTimeout, `the migration did not arrive within ${timeoutMs} ms`);
      await sleep(2);
    }
  } finally {
    off();
    writeback?.stop();
    await writeback?.done;
  }
}

async function resume(vm: RunningVm, channels: Pick<MigrationChannels, "state">, timeoutMs: number): Promise<{ bytes: number }> {
  const { qmp } = asQemuVm(vm);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { status } = await qmp.execute("query-migrate");
    if (status === "postcopy-paused") break;
    if (status === "postcopy-active") await qmp.execute("migrate-pause").catch(() => undefined);
    else throw new SnapvmError(ErrorCode.InvalidTransition, `there is no broken post-copy to resume (the migration is ${status ?? "none"})`);
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.QmpTimeout, "the post-copy did not pause within 30 s");
    await sleep(20);
  }
  await qmp.execute("migrate", { uri: `unix:${channels.state}`, resume: true });
  await waitPostcopy(qmp, timeoutMs);
  return { bytes: (await qmp.execute("query-migrate")).ram?.transferred ?? 0 };
}

/** Pre-copy or post-copy between two QEMUs through unix sockets (SSH forwards them); the disk by blockdev-mirror to NBD. */
export const qemuHostMigration: HostMigration = { listen, accept, send, resume };
