import { SCRATCH_NAMES, scratchDirPrefix } from "../../paths/index.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { MigrationProgress } from "../../driver/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { formatMigrationDest, instancePaths, snapvmHome, type InstanceName, type MigrationDest } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { agentClient } from "../access/agent-client.ts";
import { waitAgentGone } from "../lifecycle/stop.ts";
import { collectInstance } from "./collect.ts";
import { openControl } from "./control.ts";
import { PROTOCOL_VERSION, type RamSettle } from "./protocol.ts";
import { recordMigration } from "./record.ts";
import { openTunnel, uploadFile, type Tunnel } from "./transport.ts";

export interface MigrateOptions {
  home?: string;
  /** Bytes per second for the RAM stream; unlimited when absent. */
  bandwidth?: number;
  timeoutMs?: number;
  /** Switch to post-copy after the first pass (the destination runs the guest and pulls the rest). */
  postcopy?: boolean;
  onStep?: (step: string) => void;
  onProgress?: (progress: MigrationProgress) => void;
}

export interface MigrateResult {
  name: string;
  to: string;
  /** From the guest stopping here to it running there (both hosts' clocks). */
  downtimeMs: number;
  /** The part of it the source's QEMU counts (its stop to the end of its stream). */
  sourceDowntimeMs: number;
  /** From the guest stopping here to it answering its agent there (under post-copy, pages still arriving). */
  answeringMs?: number;
  totalMs: number;
  /** RAM stream bytes, disk mirror bytes, and files copied before (lower layers, boot files). */
  bytes: number;
  diskBytes: number;
  fileBytes: number;
  skippedFiles: string[];
  mode: "precopy" | "postcopy";
  /** Post-copy only: how the guest's RAM went back from tmpfs to the instance's file on the destination. */
  ramSettle?: RamSettle;
}

const DEFAULT_TIMEOUT_MS = 15 * 60_000;
const PROGRESS_POLL_MS = 500;

/**
 * `snapvm migrate NAME DEST`: moves a running instance to another host, pre-copy. Phases (libvirt v3):
 *   1. Begin: collect the launch, config, lower disk layers and boot files (collect.ts);
 *   2. Prepare: `snapvm migrate-receive` over ssh checks them (preflight), takes the files it lacks, and
 *      starts its agent listening for the state and the disk mirror on unix sockets;
 *   3. Perform: ssh forwards those sockets here; this instance's agent mirrors the top layer and sends
 *      RAM (POST /v1/migrate); the guest pauses here for the last pages and the disk's last writes;
 *   4. Finish: the destination's QEMU runs the guest and its agent owns it (`running`);
 *   5. Confirm: this QEMU ends and the instance becomes a stopped record naming where it went
 *      (POST /v1/migrate/finish). The point of no return is 5.
 * Undo before 4: the destination removes what it made (it sees the abort or the channel closing), this
 * guest runs on. A destination failing after the switch-over resumes the guest here.
 */
export async function migrateInstance(name: InstanceName, dest: MigrationDest, options: MigrateOptions = {}): Promise<MigrateResult> {
  const started = performance.now();
  const step = options.onStep ?? (() => undefined);
  const to = formatMigrationDest(dest);
  const paths = instancePaths(name, options.home);
  const current = await inspectInstance(name, options.home);
  if (current.state !== "running" || current.agentPid === undefined)
    throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${name}" is ${current.state}; only a running instance migrates`, {
      hint: `Start it with \`snapvm start ${name}\`, or move a stopped one with snapshot export/import.`,
      details: { instance: name, state: current.state },
    });
  const agentPid = current.agentPid;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  step("reading the instance");
  const collected = await collectInstance(paths);

  step(`connecting to ${to}`);
  const control = openControl(dest, to);
  const channel = control.channel;
  const sockets = await mkdtemp(scratchDirPrefix("migration"));
  const tunnels: Tunnel[] = [];
  let switched = false;
  try {
    channel.send({
      kind: "offer",
      version: PROTOCOL_VERSION,
      name,
      sourceHome: options.home ?? snapvmHome(),
      sourceHost: hostname(),
      qemuVersion: collected.launch.qemuVersion,
      accel: collected.launch.spec.accel,
      launch: collected.launch,
      config: collected.config,
      bootConfig: collected.bootConfig,
      files: collected.files,
      top: collected.top,
      timeoutMs,
      postcopy: options.postcopy === true,
    });
    const accepted = await channel.expect("accepted").catch((error: unknown) => {
      throw control.explain(error);
    });
    let fileBytes = 0;
    for (const upload of accepted.uploads) {
      const file = collected.files.find((f) => f.name === upload.name && f.role === upload.role);
      if (file === undefined) throw new SnapvmError(ErrorCode.MigrationFailed, `the destination asked for ${upload.name}, which was not offered`);
      step(`copying ${file.name}`);
      await uploadFile(dest, file.path, upload.path);
      fileBytes += file.sizeBytes;
    }
    channel.send({ kind: "files-sent" });
    step("waiting for the destination to listen");
    const listening = await channel.expect("listening");
    if (options.postcopy === true) await recordMigration(paths, { pending: { peer: to, startedAt: new Date().toISOString() } });
    // One SSH connection each: the disk mirror's last writes and flush at the switch-over must not
    // queue behind the RAM stream's data in flight in a shared connection (head-of-line blocking).
    for (const [local, remote] of [
      [SCRATCH_NAMES.migrationState, listening.state],
      [SCRATCH_NAMES.migrationDisk, listening.disk],
    ] as const)
      tunnels.push(await openTunnel(dest, [{ local: join(sockets, local), remote }]));
    step("copying memory and disk");
    const client = agentClient(name, options.home);
    const polling = pollProgress(client, options.onProgress);
    const sent = await client
      .migrate({
        stateSocket: join(sockets, SCRATCH_NAMES.migrationState),
        diskSocket: join(sockets, SCRATCH_NAMES.migrationDisk),
        timeoutMs,
        postcopy: options.postcopy === true,
        ...(options.bandwidth === undefined ? {} : { bandwidth: options.bandwidth }),
      })
      .finally(() => {
        polling.stop();
      });
    switched = true;
    step("waiting for the guest to run on the destination");
    let running;
    try {
      running = await channel.expect("running");
    } catch (error) {
      if (options.postcopy === true && channelLost(error))
        throw new SnapvmError(
          ErrorCode.MigrationFailed,
          `instance "${name}": lost contact with the destination after the switch-over of a post-copy; the guest may run there, so it stays paused here (migrating)`,
          {
            hint: `Check \`snapvm info ${name}\` on ${to}. If it runs there, \`snapvm stop --force ${name}\` here ends this copy.`,
            cause: error,
            details: { instance: name, guest: "unknown" },
          },
        );
      await client.finishMigration({ outcome: "resume", to });
      throw new SnapvmError(ErrorCode.MigrationFailed, `instance "${name}": the destination did not take over after the switch-over; the guest runs on here`, {
        cause: error,
        details: { instance: name, guest: "source", reason: error instanceof Error ? error.message : String(error) },
      });
    }
    await client.finishMigration({ outcome: "moved", to });
    await waitAgentGone(agentPid, paths.agentLock);
    const result: MigrateResult = {
      name,
      to,
      downtimeMs: Math.max(0, running.resumedAt - sent.stoppedAt),
      sourceDowntimeMs: sent.vmmDowntimeMs,
      ...(running.answeredAt === undefined ? {} : { answeringMs: Math.max(0, running.answeredAt - sent.stoppedAt) }),
      totalMs: performance.now() - started,
      bytes: sent.bytes,
      diskBytes: sent.diskBytes,
      fileBytes,
      skippedFiles: accepted.skipped,
      mode: sent.postcopy ? "postcopy" : "precopy",
      ...(running.ramSettle === undefined ? {} : { ramSettle: running.ramSettle }),
    };
    await recordMigration(paths, {
      wentTo: {
        peer: to,
        startedAt: new Date(Date.now() - result.totalMs).toISOString(),
        finishedAt: new Date().toISOString(),
        downtimeMs: result.downtimeMs,
        totalMs: result.totalMs,
        bytes: result.bytes,
        diskBytes: result.diskBytes,
      },
    });
    return result;
  } catch (error) {
    if (!switched) channel.send({ kind: "abort", reason: error instanceof Error ? error.message : String(error) });
    throw control.explain(error);
  } finally {
    await Promise.all(tunnels.map((t) => t.close()));
    // The destination cleans up when the channel closes; wait for it, so nothing of this move is left there.
    await control.close();
    await rm(sockets, { recursive: true, force: true });
  }
}

function channelLost(error: unknown): boolean {
  return error instanceof Error && error.message.endsWith("closed the connection");
}

/** Reports the agent's pre-copy figures (GET /v1/status) until stopped. */
function pollProgress(client: ReturnType<typeof agentClient>, onProgress: ((progress: MigrationProgress) => void) | undefined): { stop: () => void } {
  if (onProgress === undefined) return { stop: () => undefined };
  const state = { stopped: false };
  void (async () => {
    while (!state.stopped) {
      await sleep(PROGRESS_POLL_MS);
      const status = await client.status().catch(() => undefined);
      // stop() may have been called while the status was on its way.
      const current: { stopped: boolean } = state;
      if (!current.stopped && status?.migration !== undefined) onProgress(status.migration);
    }
  })();
  return {
    stop: () => {
      state.stopped = true;
    },
  };
}
