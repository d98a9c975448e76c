import type { LaunchSpec } from "../config/launch-spec.ts";
import type { RunningVm, VmExit } from "../driver/index.ts";

type GuestExec = Awaited<ReturnType<RunningVm["guest"]>>;

/**
 * Test support: a RunningVm with no process behind it. Every call is recorded in `calls`; the VMM
 * "exits" through `exit()` (which `quit`, `kill` and `powerdown` call), settling `exited` once.
 * `exec` answers `echo:COMMAND` on stdout with exit code 0.
 */
export class FakeVm implements RunningVm {
  readonly spec = {} as LaunchSpec;
  readonly argv: readonly string[] = ["qemu-system-x86_64", "-name", "fake"];
  readonly pid = 0;
  readonly version = "10.0.2";
  readonly exited: Promise<VmExit>;
  readonly calls: string[] = [];
  private resolveExit!: (exit: VmExit) => void;
  private ended = false;
  private running = true;

  constructor() {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  /** The VMM ends: on its own (a crash, a guest power-off) when a test calls this directly. */
  exit(code: number | null, signal: NodeJS.Signals | null = null, reason = code === 0 ? "QEMU exited" : `QEMU exited with code ${String(code)}`): void {
    if (this.ended) return;
    this.ended = true;
    this.running = false;
    this.resolveExit({ code, signal, stderrTail: "", reason });
  }

  guest(): Promise<GuestExec> {
    this.calls.push("guest");
    const guest: GuestExec = {
      waitReady: () => Promise.resolve(),
      exec: (command) => Promise.resolve({ exitCode: 0, stdout: Buffer.from(`echo:${command}`), stderr: Buffer.alloc(0) }),
      syncClock: () => Promise.resolve("seconds"),
      route: () => "snapvm-agent",
      requestShutdown: () => Promise.resolve(false),
      close: () => undefined,
    };
    return Promise.resolve(guest);
  }

  pause(): Promise<void> {
    this.calls.push("pause");
    this.running = false;
    return Promise.resolve();
  }
  resume(): Promise<void> {
    this.calls.push("resume");
    this.running = true;
    return Promise.resolve();
  }
  isRunning(): Promise<boolean> {
    return Promise.resolve(this.running);
  }
  settle(): Promise<string[]> {
    this.calls.push("settle");
    return Promise.resolve([]);
  }

  async powerdown(): Promise<"agent" | "acpi" | "quit"> {
    this.calls.push("powerdown");
    this.exit(0);
    await this.exited;
    return "acpi";
  }

  async quit(): Promise<void> {
    this.calls.push("quit");
    this.exit(0);
    await this.exited;
  }

  kill(): void {
    this.calls.push("kill");
    this.exit(null, "SIGKILL", "QEMU was killed (SIGKILL)");
  }

  closeChannels(): void {
    this.calls.push("closeChannels");
  }
}
