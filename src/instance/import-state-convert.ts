import type { LaunchSpec } from "../driver/launch-spec.ts";
import { buildQemuArgv } from "../driver/qemu/argv.ts";
import { migrateOut, setCapabilities, waitForMigration, type MigrationCapability } from "../driver/qemu/migrate.ts";
import { describeExit, spawnQemu, type QemuProcess } from "../driver/qemu/process.ts";
import { QmpClient } from "../driver/qemu/qmp/index.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";

export interface ConvertInput {
  /** The new instance's spec with the converter's own paths: RAM file, disk copy, sockets. */
  spec: LaunchSpec;
  rawStream: string;
  streamBytes: number;
  /** What the stream was saved with (checkStreamFits). */
  capabilities: MigrationCapability[];
  deviceStateFile: string;
}

export interface ConvertFigures {
  qemuVersion: string;
  loadMs: number;
  saveMs: number;
}

/** A load writes every page into the shared file mapping, ~4 s/GiB here (DESIGN.md §3a); allow 20 MiB/s. */
function loadTimeoutMs(streamBytes: number): number {
  return 60_000 + (streamBytes / (20 * 1024 * 1024)) * 1000;
}

/**
 * DESIGN.md §3a's conversion of a full-RAM stream into a lazily restorable state:
 *   1. start QEMU from `spec` (RAM a share=on file) with `-incoming defer` and `-S`: the guest never
 *      runs, so RAM and disk stay exactly as the stream left them (no `cont`, ever);
 *   2. migrate-incoming the stream with its own capabilities: every page lands in the RAM file;
 *   3. save device state only (x-ignore-shared) to `deviceStateFile`; quit.
 * QEMU is killed on any failure, with its own last words in the error; the caller removes files.
 */
export async function convertStream(input: ConvertInput): Promise<ConvertFigures> {
  const argv = [...buildQemuArgv(input.spec, { incoming: true }), "-S"];
  const qemu = await spawnQemu(argv);
  let qmp: QmpClient | undefined;
  try {
    qmp = await connect(qemu, input.spec);
    const qemuVersion = `${qmp.qemuVersion.major}.${qmp.qemuVersion.minor}.${qmp.qemuVersion.micro}`;
    const loadStarted = performance.now();
    await setCapabilities(qmp, input.capabilities);
    // exit-on-error off: a stream QEMU rejects leaves QEMU up, so query-migrate can say why.
    await qmp.execute("migrate-incoming", { uri: `file:${input.rawStream}`, "exit-on-error": false });
    await waitForMigration(qmp, `loading ${input.rawStream}`, loadTimeoutMs(input.streamBytes), 20);
    const loadMs = performance.now() - loadStarted;
    // A stream saved from a running guest would autostart it; -S prevents that, this makes sure.
    if ((await qmp.execute("query-status")).running) await qmp.execute("stop");
    const saveStarted = performance.now();
    await migrateOut(qmp, `file:${input.deviceStateFile}`, { capabilities: ["x-ignore-shared"], timeoutMs: 60_000 });
    const saveMs = performance.now() - saveStarted;
    await qmp.execute("quit", undefined, { timeoutMs: 5000 }).catch(() => { qemu.kill(); });
    await qemu.exited;
    return { qemuVersion, loadMs, saveMs };
  } catch (error) {
    qemu.kill();
    const exit = await qemu.exited;
    throw new SnapvmError(ErrorCode.QemuFailed, `converting the stream failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "QEMU refused the stream: it must come from the same QEMU version and the exact arguments given.",
      cause: error,
      details: { qemu: describeExit(exit) },
    });
  } finally {
    if (qmp !== undefined) void qmp.close();
  }
}

/** Connects to the converter's QMP socket, failing with QEMU's reason if it exits first. */
async function connect(qemu: QemuProcess, spec: LaunchSpec): Promise<QmpClient> {
  const died = qemu.exited.then((exit) => {
    throw new SnapvmError(ErrorCode.QemuFailed, `the converting QEMU ${describeExit(exit).replace(/^QEMU /, "")}`);
  });
  died.catch(() => undefined);
  return Promise.race([QmpClient.connect(spec.qmpSocket, { timeoutMs: 10_000, waitForSocket: true, retryIntervalMs: 5 }), died]);
}
