import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { SCRATCH_NAMES, scratchDirPrefix } from "../../paths/index.ts";
import { join } from "node:path";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import { parseInstanceName, snapvmHome, type InstancePaths } from "../../paths/index.ts";
import { startInstance } from "../lifecycle/start.ts";
import { INCOMING_LISTENING, INCOMING_RESUMED } from "./incoming.ts";
import { buildIncomingInstance } from "./build-incoming.ts";
import { preflight } from "./preflight.ts";
import { PROTOCOL_VERSION, type ReceiveChannel } from "./protocol.ts";
import { recordMigration } from "./record.ts";
import { recoverMigration } from "./recover.ts";
import { postcopyRamTarget, settlePostcopyRam } from "./settle-ram.ts";

export type { ReceiveChannel };

/** The agent of an instance, from its lock file (its pid), when one runs. */
async function agentPid(paths: InstancePaths): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(paths.agentLock, "utf8").catch(() => ""), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * `snapvm migrate-receive` (run over ssh by `snapvm migrate` on the source): checks the offer
 * (preflight), takes the files it lacks, builds the instance, starts its agent listening for the
 * migration, and reports the guest running. Until then, any failure, an `abort` or the source going
 * away (the channel closes) stops the agent (which kills its QEMU) and removes everything made here.
 */
export async function receiveMigration(channel: ReceiveChannel, home = snapvmHome()): Promise<void> {
  const first = await channel.next();
  if (first.kind === "recover") {
    await recoverMigration(channel, first.name, home);
    return;
  }
  if (first.kind !== "offer") throw new SnapvmError(ErrorCode.MigrationFailed, `the source began with "${first.kind}"`);
  const offer = first;
  const started = new Date();
  let made: InstancePaths | undefined;
  // Short: unix socket paths are capped at 107 bytes, and SNAPVM_HOME may be deep.
  const sockets = await mkdtemp(scratchDirPrefix("migration"));
  let running = false;
  try {
    if (offer.version !== PROTOCOL_VERSION)
      throw new SnapvmError(ErrorCode.MigrationRefused, `the source speaks migration protocol ${offer.version}, this snapvm ${PROTOCOL_VERSION}`);
    const name = parseInstanceName(offer.name);
    await preflight(offer, name, home);
    const channels = { state: join(sockets, SCRATCH_NAMES.migrationState), disk: join(sockets, SCRATCH_NAMES.migrationDisk) };
    const paths = await buildIncomingInstance(offer, name, home, channel, { ...channels, timeoutMs: offer.timeoutMs, postcopy: offer.postcopy });
    made = paths;
    let resumedAt = 0;
    const start = startInstance(name, {
      home,
      onProgress: (step) => {
        if (step === INCOMING_LISTENING) channel.send({ kind: "listening", ...channels });
        if (step === INCOMING_RESUMED) resumedAt = Date.now();
      },
    });
    start.catch(() => undefined);
    // The source aborting or going away before the guest runs here stops the agent (SIGTERM kills its QEMU).
    const gone = channel.next().then(
      (message) => (message.kind === "abort" ? message.reason : `unexpected "${message.kind}"`),
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    const outcome = await Promise.race([start.then((result) => ({ result })), gone.then((reason) => ({ reason }))]);
    if ("reason" in outcome && resumedAt !== 0 && offer.postcopy) {
      // Post-copy: the guest already runs here and the source never resumes it after the switch-over,
      // so stopping it would lose it. The agent keeps it; only this conversation is over. (Under
      // pre-copy the source still holds the whole guest, paused, and resumes it: this copy must go.)
      // Once the post-copy completes (recovered by `migrate --resume`, or its last pages were in), the
      // RAM goes back to its file, here or by the recovering migrate-receive, whichever comes first.
      if (await start.then(() => true).catch(() => false)) await settlePostcopyRam(name, home);
      return;
    }
    if ("reason" in outcome) {
      const pid = await agentPid(paths);
      if (pid !== undefined) process.kill(pid, "SIGTERM");
      await start.catch(() => undefined);
      throw new SnapvmError(ErrorCode.MigrationFailed, `the source ended the migration: ${outcome.reason}`);
    }
    running = true;
    const ramSettle = offer.postcopy ? await settlePostcopyRam(name, home) : undefined;
    await recordMigration(paths, {
      cameFrom: { peer: `${offer.sourceHost}:${offer.sourceHome}`, startedAt: started.toISOString(), finishedAt: new Date().toISOString() },
    });
    channel.send({ kind: "running", resumedAt, readyMs: outcome.result.totalMs, ...(ramSettle === undefined ? {} : { ramSettle }) });
  } catch (error) {
    if (!running && made !== undefined && existsSync(made.dir)) {
      const tmpfsRam = await postcopyRamTarget(made).catch(() => undefined);
      if (tmpfsRam !== undefined) await rm(tmpfsRam, { force: true });
      await rm(made.dir, { recursive: true, force: true });
    }
    const failure = isSnapvmError(error)
      ? { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }
      : { code: ErrorCode.MigrationFailed, message: error instanceof Error ? error.message : String(error) };
    channel.send({ kind: "failed", error: failure });
    throw error;
  } finally {
    await rm(sockets, { recursive: true, force: true });
  }
}
