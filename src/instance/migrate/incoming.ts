import { readFile, rm } from "node:fs/promises";
import { driver, type RunningVm } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import { writeJsonAtomic } from "../../util/atomic-write.ts";
import type { BootHooks, BootedVm } from "../boot/cold-boot.ts";
import { waitGuestReady } from "../boot/guest-ready.ts";
import { checkHostResources } from "../boot/host-resources.ts";
import { hostForwardsOf } from "../boot/host-ports.ts";
import { ForwardFailureWatch } from "../boot/port-refusal.ts";
import { readPinnedLaunch } from "../boot/pinned-boot.ts";

/** incoming.json: the sockets the destination's VMM listens on while a migration comes in. */
export interface IncomingMigration {
  state: string;
  disk: string;
  /** How long the whole migration may take. */
  timeoutMs: number;
  /** The source switches to post-copy after its first pass (the RAM file is on tmpfs then). */
  postcopy: boolean;
  /** Set by `migrate-receive` for `snapvm migrate --resume`: where to listen for a broken post-copy's recovery. */
  recover?: string;
}

/** Progress steps the receiving side (migrate-receive) waits for in the agent's reports. */
export const INCOMING_LISTENING = "migration: listening";
export const INCOMING_RESUMED = "migration: resumed";
/** After the switch-over, the guest answered its agent here. */
export const INCOMING_ANSWERING = "migration: answering";

/** A step with the epoch ms it happened at, as the agent reports it: "STEP at MS". */
function timedStep(step: string, at: number): string {
  return `${step} at ${at}`;
}

/** The epoch ms of a timed `step` (INCOMING_RESUMED, INCOMING_ANSWERING) in a reported line, if it is one. */
export function stepTime(line: string, step: string): number | undefined {
  if (!line.startsWith(`${step} at `)) return undefined;
  const at = Number(line.slice(step.length + 4));
  return Number.isFinite(at) && at > 0 ? at : undefined;
}

export async function writeIncoming(paths: InstancePaths, incoming: IncomingMigration): Promise<void> {
  await writeJsonAtomic(paths.incoming, incoming);
}

export async function readIncoming(paths: InstancePaths): Promise<IncomingMigration> {
  const parsed = JSON.parse(await readFile(paths.incoming, "utf8")) as Partial<IncomingMigration>;
  if (typeof parsed.state !== "string" || typeof parsed.disk !== "string" || typeof parsed.timeoutMs !== "number" || typeof parsed.postcopy !== "boolean")
    throw new SnapvmError(ErrorCode.AgentFailed, `${paths.incoming} is not an incoming migration record`);
  return parsed as IncomingMigration;
}

/**
 * The destination agent's bring-up while incoming.json exists: the pinned launch (already rewritten to
 * this host's paths by migrate-receive) with `-incoming defer`, the disk export and the migration
 * listening on the record's sockets; once the state is in, QEMU runs the guest (the source was
 * running), and the agent owns it like any other. On failure QEMU is killed; migrate-receive removes
 * the instance.
 */
export async function receiveIncoming(paths: InstancePaths, hooks: BootHooks): Promise<BootedVm> {
  const started = performance.now();
  const incoming = await readIncoming(paths);
  const launch = await readPinnedLaunch(paths);
  const shareMemory = launch.argvOptions?.shareMemory !== false;
  await checkHostResources({ spec: launch.spec, shareMemory, purpose: "restore", ...(hooks.home === undefined ? {} : { home: hooks.home }) });
  const watch = new ForwardFailureWatch(hooks.onQemuStderr);
  let vm: RunningVm;
  try {
    // Frozen: the guest must not run before the disk export is gone (accept resumes it).
    vm = await driver.launcher.start(launch.spec, { incoming: true, frozen: true, ...launch.argvOptions, onStderrLine: watch.onLine });
  } catch (error) {
    throw (await watch.refusal(launch.spec.name, hostForwardsOf(launch.spec), "restore")) ?? error;
  }
  hooks.onQemuUp?.(vm);
  try {
    if (vm.version !== launch.qemuVersion)
      throw new SnapvmError(ErrorCode.MigrationRefused, `the source runs QEMU ${launch.qemuVersion}, this host runs ${vm.version}`);
    await driver.migration.listen(vm, { state: incoming.state, disk: incoming.disk }, { postcopy: incoming.postcopy });
    hooks.onProgress(INCOMING_LISTENING);
    const seen = { resumed: false };
    await driver.migration.accept(
      vm,
      incoming.timeoutMs,
      (resumedAt) => {
        seen.resumed = true;
        hooks.onProgress(timedStep(INCOMING_RESUMED, resumedAt));
      },
      async () => (await readIncoming(paths).catch(() => undefined))?.recover,
    );
    if (!seen.resumed) throw new SnapvmError(ErrorCode.MigrationFailed, "the migration completed without the guest being resumed");
    await waitGuestReady(vm, 30_000);
    hooks.onProgress(timedStep(INCOMING_ANSWERING, Date.now()));
    await rm(paths.incoming, { force: true });
    return { vm, accelReason: launch.accelReason, readyMs: performance.now() - started, launch };
  } catch (error) {
    vm.kill();
    await vm.exited;
    throw error;
  }
}
