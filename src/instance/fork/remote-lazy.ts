import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { createInterface } from "node:readline";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError, isSnapvmError } from "../../errors/index.ts";
import {
  instancePaths,
  parseInstanceName,
  scratchDirPrefix,
  snapvmHome,
  type InstanceName,
  type InstancePaths,
  type RemoteSnapshot,
} from "../../paths/index.ts";
import { claimNewInstance } from "../lifecycle/new-instance.ts";
import { deleteInstance } from "../lifecycle/delete.ts";
import { LineChannel } from "../migrate/line-channel.ts";
import { localVmmVersion } from "../migrate/preflight.ts";
import type { DestinationMessage, Offer, RamSettle, SourceMessage } from "../migrate/protocol.ts";
import { receiveMigration } from "../migrate/receive.ts";
import { recordMigration } from "../migrate/record.ts";
import { postcopyRamTarget } from "../migrate/settle-ram.ts";
import { copySparse } from "../../util/sparse-copy.ts";
import { layerHere } from "./layer-here.ts";
import { downloadFile } from "./remote-transport.ts";
import { openServeLink, type ServeLink } from "./remote-serve-link.ts";

export interface RemoteForkResult {
  name: string;
  from: string;
  lazy: boolean;
  /** From the command to the guest answering here. */
  answeringMs: number;
  /** From the command to the end: the files, the whole post-copy, and the RAM settled into its file. */
  totalMs: number;
  /** Files copied before (the snapshot's disk layers, boot files, key). */
  fileBytes: number;
  /** Lazy only: the snapshot's disk layers found here by digest (not copied). */
  reusedLayers?: string[];
  /** Lazy only: how the RAM went back from tmpfs to the instance's file once every page was here. */
  ramSettle?: RamSettle;
}

function refused(name: string, why: string, hint: string, details: Record<string, unknown>): SnapvmError {
  return new SnapvmError(ErrorCode.MigrationRefused, `cannot fork "${name}" here: ${why}; nothing was moved`, { hint, details });
}

/**
 * Carries the conversation between the snapshot's host (fork-serve, over ssh) and this process's
 * migrate-receive code (receiveMigration, over an in-memory channel), doing here what the source does
 * in `snapvm migrate`: it pulls the files the receiver asks for and points the link's forwarded sockets
 * at the receiver's, since the snapshot's host may not reach this one.
 */
class Relay {
  private offer: Offer | undefined;
  /** The snapshot's host's own error, preferred over the receiver's account of it. */
  sourceError: SnapvmError | undefined;
  running: Extract<DestinationMessage, { kind: "running" }> | undefined;
  /** The receiver asked for files: it passed its checks and will build the instance. */
  accepted = false;
  fileBytes = 0;
  /** Layers found here by digest instead of copied. */
  readonly reused: string[] = [];
  readonly inbound = new PassThrough();
  readonly outbound = new PassThrough();

  constructor(
    private readonly remote: RemoteSnapshot,
    private readonly link: ServeLink,
    private readonly step: (text: string) => void,
    private readonly home: string,
  ) {
    this.failed = new Promise((resolve) => {
      this.fail = resolve;
    });
  }

  /** Resolves once either side failed (the snapshot's host, or a step here). */
  readonly failed: Promise<void>;
  private fail: () => void = () => undefined;

  /** Stops the move as the source would: the receiver removes what it made. */
  abort(error: SnapvmError): void {
    this.sourceError ??= error;
    this.fail();
    this.toReceiver({ kind: "abort", reason: error.message });
  }

  private toReceiver(message: SourceMessage): void {
    if (!this.inbound.writableEnded) this.inbound.write(`${JSON.stringify(message)}\n`);
  }

  /** The snapshot's host → the receiver, until that host's channel ends. */
  async fromSource(): Promise<void> {
    for (;;) {
      let message;
      try {
        message = await this.link.channel.next();
      } catch {
        this.inbound.end();
        return;
      }
      if (message.kind === "offer") this.step("the snapshot runs there; offered");
      if (message.kind === "failed") {
        this.abort(
          new SnapvmError(message.error.code as ErrorCode, message.error.message, {
            ...(message.error.hint === undefined ? {} : { hint: message.error.hint }),
          }),
        );
      } else if (message.kind === "offer") {
        this.offer = message;
        this.toReceiver(message);
      } else if (message.kind === "abort" || message.kind === "files-sent") this.toReceiver(message);
    }
  }

  /** The receiver → the snapshot's host, doing the source's part of `accepted` and `listening` here. */
  async fromReceiver(): Promise<void> {
    for await (const line of createInterface({ input: this.outbound, crlfDelay: Infinity })) {
      if (line.trim() === "") continue;
      const message = JSON.parse(line) as DestinationMessage;
      try {
        if (message.kind === "accepted") {
          this.accepted = true;
          for (const upload of message.uploads) {
            const file = this.offer?.files.find((f) => f.name === upload.name && f.role === upload.role);
            if (file === undefined) throw new SnapvmError(ErrorCode.MigrationFailed, `the receiver asked for ${upload.name}, which was not offered`);
            const here = await layerHere(file, this.home);
            if (here !== undefined) {
              this.step(`found ${file.name} here`);
              await copySparse(here, upload.path);
              this.reused.push(file.name);
            } else {
              this.step(`copying ${file.name}`);
              await downloadFile(this.remote.host, file.path, upload.path, this.link.shared);
              this.fileBytes += file.sizeBytes;
            }
          }
          this.link.channel.send(message);
          this.toReceiver({ kind: "files-sent" });
        } else if (message.kind === "listening") {
          // The link's forwards lead here; from now on to the receiver's sockets.
          await symlink(message.state, this.link.local.state);
          await symlink(message.disk, this.link.local.disk);
          this.link.channel.send(message);
          this.step("post-copy: the guest starts here, its pages follow");
        } else {
          if (message.kind === "running") this.running = message;
          this.link.channel.send(message);
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.link.channel.send({ kind: "failed", error: { code: ErrorCode.MigrationFailed, message: reason } });
        this.abort(error instanceof SnapvmError ? error : new SnapvmError(ErrorCode.MigrationFailed, reason));
      }
    }
  }

  close(): void {
    this.inbound.end();
    this.outbound.end();
  }
}

/** After a failure, how long the receiver gets to clean up on its own before NEW is removed. */
const FAILED_WAIT_MS = 10_000;

/** When the guest first answered here: the agent's `migrated-in` event (events.jsonl), if it is there. */
async function migratedInAt(paths: InstancePaths): Promise<number | undefined> {
  const text = await readFile(paths.events, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (!line.includes('"migrated-in"')) continue;
    const event = JSON.parse(line) as { time?: unknown };
    if (typeof event.time === "string") return Date.parse(event.time);
  }
  return undefined;
}

/** Kills and removes what a failed lazy fork made here, the tmpfs RAM file included. */
async function removeHere(name: InstanceName, home: string): Promise<void> {
  const paths = instancePaths(name, home);
  if (!existsSync(paths.dir)) return;
  const tmpfsRam = await postcopyRamTarget(paths).catch(() => undefined);
  await deleteInstance(name, { force: true, home }).catch(() => rm(paths.dir, { recursive: true, force: true }));
  if (tmpfsRam !== undefined) await rm(tmpfsRam, { force: true });
}

/**
 * `snapvm fork ssh://HOST[/HOME]/NAME@TAG NEW --lazy`: the snapshot's host starts a temporary fork of it
 * and post-copies it here at once (remote-serve.ts), so NEW answers after its device state and pulls its
 * pages on demand while the rest streams in the background. Steps here:
 *   1. NEW must be free here; the snapshot's QEMU version and accelerator must match this host's
 *      (refused before anything starts there);
 *   2. receive it as `snapvm migrate-receive` would (preflight, the files pulled by digest, an empty top
 *      disk layer over the snapshot's frozen layers, RAM on tmpfs meanwhile), the sockets forwarded there;
 *   3. the guest answers here; once every page is here, the RAM goes to NEW's own file (settle-ram.ts).
 * Undo: any failure removes NEW here (if this command made it) and the temporary fork there.
 */
export async function lazyForkFromRemote(
  remote: RemoteSnapshot,
  newName: string,
  options: { home?: string; onProgress?: (step: string) => void } = {},
): Promise<RemoteForkResult> {
  const started = performance.now();
  const startedAt = Date.now();
  const home = options.home ?? snapvmHome();
  const step = options.onProgress ?? (() => undefined);
  const name = parseInstanceName(newName);
  claimNewInstance(name, home);
  step(`connecting to ${remote.url}`);
  const scratch = await mkdtemp(scratchDirPrefix("migration"));
  const link = openServeLink(remote, scratch);
  const relay = new Relay(remote, link, step, home);
  let done = false;
  // Ctrl-C or a kill: the receiver removes what it made, the link's end stops the snapshot's host.
  const onSignal = (): void => {
    relay.abort(new SnapvmError(ErrorCode.MigrationFailed, `the fork of ${remote.url} was interrupted`));
    link.channel.close();
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const facts = await link.channel.expect("snapshot").catch(async (error: unknown) => {
      const explained = await link.explain(error);
      // The snapshot's host's own refusal (no such instance or tag), named by where it was asked.
      if (explained === error && isSnapvmError(error) && !error.message.startsWith("the snapshot's host"))
        throw new SnapvmError(error.code, `${remote.url}: ${error.message}`, { ...(error.hint === undefined ? {} : { hint: error.hint }), cause: error });
      throw explained;
    });
    const local = await localVmmVersion();
    if (facts.qemuVersion !== local)
      throw refused(
        name,
        `the snapshot was taken under QEMU ${facts.qemuVersion} and this host runs QEMU ${local}`,
        `Install QEMU ${facts.qemuVersion} here.`,
        {
          source: facts.qemuVersion,
          destination: local,
        },
      );
    link.channel.send({ kind: "go", name });
    step("starting the snapshot there and receiving it");
    const channel = new LineChannel<SourceMessage, DestinationMessage>(relay.inbound, relay.outbound, `the snapshot's host (${remote.url})`);
    const pumps = Promise.all([relay.fromSource(), relay.fromReceiver()]);
    pumps.catch(() => undefined);
    const receiving = receiveMigration(channel, home).then(
      () => undefined,
      (error: unknown) => error,
    );
    // A post-copy broken after its switch-over leaves the receiver waiting for a guest that cannot run
    // (its pages are on the snapshot's host): give it a little, then remove NEW regardless (finally).
    const received = await Promise.race([receiving, relay.failed.then(() => sleep(FAILED_WAIT_MS, undefined, { ref: false }))]);
    const running = relay.running;
    if (running === undefined) {
      if (relay.sourceError !== undefined) throw relay.sourceError;
      throw received instanceof Error ? await link.explain(received) : new SnapvmError(ErrorCode.MigrationFailed, "the fork never ran here");
    }
    done = true;
    const finishedAt = new Date().toISOString();
    await recordMigration(instancePaths(name, home), {
      cameFrom: { peer: `${remote.url} (lazy fork)`, startedAt: new Date(startedAt).toISOString(), finishedAt },
    });
    return {
      name,
      from: remote.url,
      lazy: true,
      answeringMs: (running.answeredAt ?? (await migratedInAt(instancePaths(name, home))) ?? running.resumedAt) - startedAt,
      totalMs: performance.now() - started,
      fileBytes: relay.fileBytes,
      reusedLayers: relay.reused,
      ...(running.ramSettle === undefined ? {} : { ramSettle: running.ramSettle }),
    };
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    relay.close();
    await link.close();
    await rm(scratch, { recursive: true, force: true });
    if (!done && relay.accepted) await removeHere(name, home);
  }
}
