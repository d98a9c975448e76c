import { realpath } from "node:fs/promises";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { GuestChannel } from "../guest/channel.ts";
import type { GuestExec } from "../guest/guest-exec.ts";
import { guestAccessOf, type LaunchSpec } from "../../config/launch-spec.ts";
import { SshGuest } from "../ssh/ssh-guest.ts";
import type { LaunchOptions, RunningVm } from "../driver.ts";
import { buildQemuArgv, QGA_CHARDEV_ID, type ArgvOptions } from "./argv.ts";
import { CloudGuest } from "../qga/cloud-guest.ts";
import { spawnQemu, type QemuExit, type QemuProcess } from "./process.ts";
import { QmpClient } from "./qmp/index.ts";
import { settleQemu } from "./settle.ts";
import { processAlive } from "../../util/process-alive.ts";

export type StartOptions = LaunchOptions & ArgvOptions;

/** The QemuVm behind a RunningVm this driver started: the QEMU-only roles need its QMP client. */
export function asQemuVm(vm: RunningVm): QemuVm {
  if (!(vm instanceof QemuVm)) throw new Error("the QEMU driver was handed a VM it did not start");
  return vm;
}

/**
 * A running QEMU: its process, its QMP connection and (once asked for) the guest channel.
 * If QEMU dies while starting, the error carries QEMU's own last words.
 */
export class QemuVm implements RunningVm {
  /** The promise, not the channel: callers racing on the first use share one connection. */
  private guestChannel: Promise<GuestExec> | undefined;

  private constructor(
    readonly spec: LaunchSpec,
    readonly argv: readonly string[],
    private readonly process: QemuProcess,
    readonly qmp: QmpClient,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  get exited(): Promise<QemuExit> {
    return this.process.exited;
  }

  get version(): string {
    const v = this.qmp.qemuVersion;
    return `${v.major}.${v.minor}.${v.micro}`;
  }

  async pause(): Promise<void> {
    await this.qmp.execute("stop");
  }

  async resume(): Promise<void> {
    await this.qmp.execute("cont");
  }

  async isRunning(): Promise<boolean> {
    return (await this.qmp.execute("query-status")).running;
  }

  settle(): Promise<string[]> {
    return settleQemu(this.qmp);
  }

  static async start(specIn: LaunchSpec, options: StartOptions = {}): Promise<QemuVm> {
    // The disk path is a link to the chain's top layer: QEMU must open the layer by its real name, the
    // name the next layer's header will give as its backing file.
    const spec = { ...specIn, disk: await realpath(specIn.disk) };
    const argv = buildQemuArgv(spec, options);
    const process = await spawnQemu(argv, options.onStderrLine);
    const died = process.exited.then((exit) => {
      throw new SnapvmError(ErrorCode.QemuFailed, `instance "${spec.name}": ${exit.reason}`, { details: { instance: spec.name } });
    });
    try {
      const qmp = await Promise.race([
        // QEMU creates its socket ~25 ms after spawn; polling every 2 ms keeps that wait tight on a resume.
        QmpClient.connect(spec.qmpSocket, { timeoutMs: options.controlTimeoutMs ?? 10_000, waitForSocket: true, retryIntervalMs: 2 }),
        died,
      ]);
      return new QemuVm(spec, argv, process, qmp);
    } catch (error) {
      process.kill();
      throw error;
    } finally {
      died.catch(() => undefined);
    }
  }

  /**
   * Takes over a QEMU that is running but not our child (its agent died): connects to its QMP socket
   * within `qmpTimeoutMs` (E_QMP_* when it does not answer). Not being its parent, we cannot wait for
   * it: `exited` resolves once its QMP socket closed and the pid is gone, with code 0 when QEMU said
   * SHUTDOWN first (a guest power-off or a quit), else an unknown status.
   */
  static async adopt(spec: LaunchSpec, argv: readonly string[], pid: number, options: { qmpTimeoutMs?: number } = {}): Promise<QemuVm> {
    const qmp = await QmpClient.connect(spec.qmpSocket, { timeoutMs: options.qmpTimeoutMs ?? 3000 });
    let shutdown = false;
    qmp.onEvent("SHUTDOWN", () => {
      shutdown = true;
    });
    const exited = qmp.closed.then(async () => {
      while (processAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      const stderrTail = shutdown ? "" : "the adopted QEMU ended; not being its parent, snapvm cannot tell how";
      return {
        code: shutdown ? 0 : null,
        signal: null,
        stderrTail,
        reason: shutdown ? "QEMU exited with code 0" : `QEMU ended: ${stderrTail}`,
      } satisfies QemuExit;
    });
    const adopted: QemuProcess = {
      pid,
      exited,
      stderrTail: () => "",
      kill: (signal: NodeJS.Signals = "SIGKILL") => {
        try {
          process.kill(pid, signal);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
        }
      },
    };
    return new QemuVm(spec, argv, adopted, qmp);
  }

  /**
   * How commands reach the guest, as the spec's guestAccess says: the agent's virtio-serial channel
   * (connected on first use and kept) or SSH through the forwarded port. Kept for the VM's life.
   */
  guest(): Promise<GuestExec> {
    this.guestChannel ??= this.connectGuest();
    return this.guestChannel;
  }

  /** SSH guests with qemu-guest-agent's channel in their launch also try the agent (cloud-guest.ts). */
  private async connectGuest(): Promise<GuestExec> {
    const access = guestAccessOf(this.spec);
    const label = `instance "${this.spec.name}"`;
    if (access.kind !== "ssh") return GuestChannel.connect(this.spec.guestSocket, label);
    const ssh = new SshGuest(access, label);
    const qgaSocket = this.spec.qgaSocket;
    if (qgaSocket === undefined) return ssh;
    return new CloudGuest({ ssh, access, qgaSocket, label, qgaPortOpen: () => this.qgaPortOpen() });
  }

  private async qgaPortOpen(): Promise<boolean> {
    const chardevs = await this.qmp.execute("query-chardev");
    return chardevs.some((c) => c.label === QGA_CHARDEV_ID && c["frontend-open"]);
  }

  /**
   * Asks the guest to power off, through its own agent when it answers there (qemu-guest-agent's
   * guest-shutdown), else ACPI; after `timeoutMs`, quits QEMU. Resolves when QEMU has exited.
   */
  async powerdown(timeoutMs: number): Promise<"agent" | "acpi" | "quit"> {
    const viaAgent =
      this.guestChannel === undefined ? false : await this.guestChannel.then((guest) => guest.requestShutdown(Math.min(timeoutMs, 5000))).catch(() => false);
    if (!viaAgent) await this.qmp.execute("system_powerdown").catch(() => undefined);
    const timer = new Promise<"timeout">((resolve) =>
      setTimeout(() => {
        resolve("timeout");
      }, timeoutMs).unref(),
    );
    if ((await Promise.race([this.exited.then(() => "exited" as const), timer])) === "exited") return viaAgent ? "agent" : "acpi";
    await this.quit();
    return "quit";
  }

  /** Ends QEMU at once through QMP (no guest shutdown), killing it if QMP does not answer. */
  async quit(): Promise<void> {
    await this.qmp.execute("quit", undefined, { timeoutMs: 5000 }).catch(() => {
      this.process.kill();
    });
    await this.exited;
  }

  kill(): void {
    this.process.kill();
  }

  closeChannels(): void {
    this.guestChannel?.then(
      (channel) => {
        channel.close();
      },
      () => undefined,
    );
    void this.qmp.close();
  }
}
