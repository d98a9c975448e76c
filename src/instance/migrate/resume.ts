import { mkdtemp, rm } from "node:fs/promises";
import { SCRATCH_NAMES, scratchDirPrefix } from "../../paths/index.ts";
import { join } from "node:path";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, parseMigrationDest, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { agentClient } from "../access/agent-client.ts";
import { waitAgentGone } from "../lifecycle/stop.ts";
import { openControl } from "./control.ts";
import type { RamSettle } from "./protocol.ts";
import { readMigrationRecord, recordMigration } from "./record.ts";
import { openTunnel, type Tunnel } from "./transport.ts";

export interface ResumeResult {
  name: string;
  to: string;
  /** RAM bytes the source's QEMU counts in all, the part sent before the break included. */
  bytes: number;
  totalMs: number;
  ramSettle?: RamSettle;
}

const RESUME_TIMEOUT_MS = 15 * 60_000;

/**
 * `snapvm migrate NAME --resume`: a post-copy broken after its switch-over (the link was cut; the guest
 * runs on the destination, paused at pages only this host has) goes on once the link is back: the
 * destination's agent listens for the recovery (migrate-recover), ssh forwards it here, and this agent
 * sends the rest (migrate resume=true). Then the move finishes as any other.
 */
export async function resumeMigration(name: InstanceName, options: { home?: string; onStep?: (step: string) => void } = {}): Promise<ResumeResult> {
  const started = performance.now();
  const step = options.onStep ?? (() => undefined);
  const paths = instancePaths(name, options.home);
  const current = await inspectInstance(name, options.home);
  const pending = (await readMigrationRecord(paths))?.pending;
  if (current.state !== "migrating" || current.agentPid === undefined || pending === undefined)
    throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${name}" has no broken post-copy to resume (it is ${current.state})`, {
      details: { instance: name, state: current.state },
    });
  const agentPid = current.agentPid;
  const to = pending.peer;
  const dest = parseMigrationDest(to);
  step(`connecting to ${to}`);
  const control = openControl(dest, to);
  const sockets = await mkdtemp(scratchDirPrefix("migration"));
  let tunnel: Tunnel | undefined;
  try {
    control.channel.send({ kind: "recover", name });
    const client = agentClient(name, options.home);
    const reply = await control.channel.next();
    let sent = { bytes: 0 };
    let running;
    if (reply.kind === "running") {
      // The destination had received everything before the link broke: nothing is left to send.
      running = reply;
    } else {
      if (reply.kind === "failed")
        throw new SnapvmError(reply.error.code as ErrorCode, reply.error.message, { ...(reply.error.hint === undefined ? {} : { hint: reply.error.hint }) });
      if (reply.kind !== "listening") throw new SnapvmError(ErrorCode.MigrationFailed, `the destination answered "${reply.kind}"`);
      tunnel = await openTunnel(dest, [{ local: join(sockets, SCRATCH_NAMES.migrationState), remote: reply.state }]);
      step("sending the rest of the memory");
      sent = await client.resumeMigration({ stateSocket: join(sockets, SCRATCH_NAMES.migrationState), timeoutMs: RESUME_TIMEOUT_MS });
      step("waiting for the destination");
      running = await control.channel.expect("running");
    }
    await client.finishMigration({ outcome: "moved", to });
    await waitAgentGone(agentPid, paths.agentLock);
    const totalMs = performance.now() - started;
    await recordMigration(paths, { wentTo: { peer: to, startedAt: pending.startedAt, finishedAt: new Date().toISOString(), totalMs, bytes: sent.bytes } });
    return { name, to, bytes: sent.bytes, totalMs, ...(running.ramSettle === undefined ? {} : { ramSettle: running.ramSettle }) };
  } catch (error) {
    throw control.explain(error);
  } finally {
    await tunnel?.close();
    await control.close();
    await rm(sockets, { recursive: true, force: true });
  }
}
