import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { forkServeSockets, instancePaths, parseInstanceName, snapvmHome, type InstanceName, type SnapshotTag } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { agentClient } from "../access/agent-client.ts";
import { deleteInstance } from "../lifecycle/delete.ts";
import { startInstance } from "../lifecycle/start.ts";
import { waitAgentGone } from "../lifecycle/stop.ts";
import { collectInstance } from "../migrate/collect.ts";
import type { LineChannel } from "../migrate/line-channel.ts";
import { PROTOCOL_VERSION } from "../migrate/protocol.ts";
import { snapshotDetails } from "../snapshots/list.ts";
import { forkInstance } from "./fork.ts";
import type { ClientMessage, ServeMessage } from "./remote-protocol.ts";

const TIMEOUT_MS = 15 * 60_000;
/** How long the fork's host's reverse forwards get to appear here (its ssh makes them as it connects). */
const SOCKETS_WAIT_MS = 20_000;

export type ServeChannel = LineChannel<ClientMessage, ServeMessage>;

export interface ServeResult {
  /** RAM bytes the post-copy sent. */
  bytes: number;
}

async function waitForSockets(paths: readonly string[]): Promise<void> {
  const deadline = Date.now() + SOCKETS_WAIT_MS;
  while (!paths.every((p) => existsSync(p))) {
    if (Date.now() > deadline) throw new SnapvmError(ErrorCode.MigrationFailed, "the fork's host did not forward its migration sockets here within 20 s");
    await sleep(10);
  }
}

/**
 * `snapvm fork-serve NAME@TAG` (hidden, run over ssh by `snapvm fork ssh://…/NAME@TAG NEW --lazy` on the
 * fork's host). Steps:
 *   1. the snapshot's facts (`snapshot`: its QEMU version and accelerator), so the other side refuses a
 *      mismatch before anything starts here; wait for `go`;
 *   2. a temporary fork of the snapshot (the local lazy restore: the RAM file mapped copy-on-write, the
 *      snapshot itself untouched), named lazy-<random>;
 *   3. offer it under the new name, as a migration source; the other side pulls the files, and its
 *      ssh made two sockets here (`socketsId` names them) that lead to its receiver;
 *   4. post-copy at once: the guest runs there from its device state and pulls its pages from here;
 *   5. once the other side runs it (`running`), the temporary QEMU ends.
 * Undo, always: the temporary fork is deleted (killed first if it runs). Before the switch-over the other
 * side removes what it made on `failed`; after it, a broken post-copy loses the fork there too (the
 * snapshot here is intact, so the fork can be made again).
 */
export async function serveRemoteFork(
  channel: ServeChannel,
  instance: InstanceName,
  tag: SnapshotTag,
  socketsId: string,
  home = snapvmHome(),
): Promise<ServeResult> {
  let temp: InstanceName | undefined;
  // Made by the fork's host's ssh before this runs; removed here whatever happens.
  const sockets = forkServeSockets(socketsId);
  let starting: Promise<unknown> | undefined;
  try {
    if (sockets === undefined) throw new SnapvmError(ErrorCode.InvalidArgument, `bad socket id ${JSON.stringify(socketsId.slice(0, 100))}`);
    const snapshot = await snapshotDetails(instance, tag, home);
    if (!snapshot.hasMemory)
      throw new SnapvmError(ErrorCode.NotSupported, `snapshot "${tag}" of "${instance}" has no RAM file to fork from`, {
        hint: "A lazy fork needs a snapshot of a running or suspended instance with memory.backing: file.",
      });
    const launch = snapshot.manifest.launch;
    channel.send({ kind: "snapshot", qemuVersion: launch.qemuVersion, accel: launch.spec.accel });
    const go = await channel.expect("go");
    const name = parseInstanceName(go.name);
    const { state, disk } = sockets;
    temp = parseInstanceName(`lazy-${randomBytes(4).toString("hex")}`);
    await forkInstance(`${instance}@${tag}`, temp, { home, identity: name, start: false });
    const paths = instancePaths(temp, home);
    const collected = await collectInstance(paths);
    channel.send({
      kind: "offer",
      version: PROTOCOL_VERSION,
      name,
      sourceHome: home,
      sourceHost: hostname(),
      qemuVersion: collected.launch.qemuVersion,
      accel: collected.launch.spec.accel,
      launch: collected.launch,
      config: collected.config,
      bootConfig: collected.bootConfig,
      files: collected.files,
      top: collected.top,
      timeoutMs: TIMEOUT_MS,
      postcopy: true,
    });
    // It starts while the other side copies the files it lacks.
    starting = startInstance(temp, { home });
    starting.catch(() => undefined);
    await channel.expect("accepted");
    await channel.expect("listening");
    await starting;
    const current = await inspectInstance(temp, home);
    if (current.agentPid === undefined) throw new SnapvmError(ErrorCode.MigrationFailed, `the temporary fork ${temp} is ${current.state}, not running`);
    await waitForSockets([state, disk]);
    const client = agentClient(temp, home);
    const sent = await client.migrate({ stateSocket: state, diskSocket: disk, timeoutMs: TIMEOUT_MS, postcopy: true, postcopyAtOnce: true });
    await channel.expect("running");
    await client.finishMigration({ outcome: "moved", to: `the fork ${name}` });
    await waitAgentGone(current.agentPid, paths.agentLock);
    return { bytes: sent.bytes };
  } catch (error) {
    const failure = isSnapvmError(error)
      ? { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }
      : { code: ErrorCode.MigrationFailed, message: error instanceof Error ? error.message : String(error) };
    channel.send({ kind: "failed", error: failure });
    throw error;
  } finally {
    await starting?.catch(() => undefined);
    if (temp !== undefined && existsSync(instancePaths(temp, home).dir)) await deleteInstance(temp, { force: true, home });
    // The fork's host's ssh made them; sshd leaves them behind.
    if (sockets !== undefined) await Promise.all([rm(sockets.state, { force: true }), rm(sockets.disk, { force: true })]);
  }
}
