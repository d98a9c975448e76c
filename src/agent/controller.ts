import { setTimeout as sleep } from "node:timers/promises";
import type {
  AgentStatus,
  ConfigPatch,
  ExecRequest,
  ExecResponse,
  MigrateFinishRequest,
  MigrateFinishResponse,
  MigrateRequest,
  MigrateResponse,
  MigrateResumeRequest,
  MigrateResumeResponse,
  RuntimeConfig,
  SaveFigures,
  SnapshotRequest,
  SnapshotResponse,
  StopRequest,
  StreamSnapshotRequest,
  StreamSnapshotResponse,
  StopResponse,
} from "../api/schemas.ts";
import { takeLiveSnapshot } from "../instance/snapshots/live.ts";
import { streamLiveSnapshot } from "../instance/snapshots/stream.ts";
import type { RuntimeSettings } from "../instance/boot/settings.ts";
import type { PinnedLaunch } from "../snapshot/launch.ts";
import type { MigrationProgress, RunningVm, VmExit } from "../driver/index.ts";
import { migrateOut, resumeOut } from "../instance/migrate/outgoing.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../errors/index.ts";
import { assertTransition } from "../instance/lifecycle/transitions.ts";
import type { InstanceState } from "../store/instance-state.ts";
import { saveSuspendState } from "../instance/suspend/save-state.ts";
import { parseSnapshotTag, type InstancePaths } from "../paths/index.ts";
import { writeStatus, type InstanceStatus } from "../store/status.ts";
import type { EventLog } from "./events.ts";
import type { AgentHandlers } from "./server.ts";

/** How long `stop --force` lets the operation it preempted undo itself once QEMU is dead. */
const FORCE_UNDO_WAIT_MS = 3000;

export interface ControllerInit {
  name: string;
  paths: InstancePaths;
  settings: RuntimeSettings;
  vm: RunningVm;
  launch: PinnedLaunch;
  status: Omit<InstanceStatus, "updatedAt" | "state">;
  /** The state the VM is in when handed over: it comes up through a cold boot or a restore. */
  initialState: "starting" | "restoring";
  events: EventLog;
  /** The two operations that write state to disk; real ones unless a test injects fakes (agent/controller.test.ts). */
  operations?: Partial<StateOperations>;
}

export interface StateOperations {
  saveState: typeof saveSuspendState;
  liveSnapshot: typeof takeLiveSnapshot;
  streamSnapshot: typeof streamLiveSnapshot;
}

/**
 * Owns one running VM for the agent: answers the API, performs stop/save, and notices when QEMU
 * ends on its own. `finished` resolves once the instance has reached a resting state (stopped,
 * suspended, broken) and the agent may exit.
 */
export class AgentController implements AgentHandlers {
  private state: InstanceState;
  private settings: RuntimeSettings;
  /** saveOnStop as last set through PATCH /v1/config; it outranks snapvm.yaml. */
  private patchedSaveOnStop: boolean | undefined;
  private extra: Omit<InstanceStatus, "updatedAt" | "state">;
  private stopping: Promise<StopResponse> | undefined;
  private readonly operations: StateOperations;
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((resolve) => {
    this.resolveFinished = resolve;
  });

  constructor(private readonly init: ControllerInit) {
    this.state = init.initialState;
    this.settings = init.settings;
    this.extra = init.status;
    this.operations = { saveState: saveSuspendState, liveSnapshot: takeLiveSnapshot, streamSnapshot: streamLiveSnapshot, ...init.operations };
    void init.vm.exited.then((exit) => this.onQemuExit(exit));
  }

  private get name(): string {
    return this.init.name;
  }

  async setState(state: InstanceState, lastEvent?: string): Promise<void> {
    assertTransition(this.name, this.state, state);
    this.state = state;
    if (lastEvent !== undefined) this.extra = { ...this.extra, lastEvent };
    await writeStatus(this.init.paths.status, { state, ...this.extra });
    this.init.events.write("state", { state, ...(lastEvent === undefined ? {} : { reason: lastEvent }) });
  }

  status(): AgentStatus {
    return {
      state: this.state,
      updatedAt: new Date().toISOString(),
      ...this.extra,
      saveOnStop: this.settings.saveOnStop,
      ...(this.migrationProgress === undefined ? {} : { migration: this.migrationProgress }),
    };
  }

  private migrationProgress: MigrationProgress | undefined;

  /** The source half of a host-to-host migration; the guest stays paused on success until finishMigration. */
  async migrate(request: MigrateRequest): Promise<MigrateResponse> {
    this.requireRunning("migrate it");
    const run = this.busy.then(async () => {
      this.requireRunning("migrate it");
      await this.setState("migrating");
      try {
        return await migrateOut(this.init.vm, request, (progress) => {
          this.migrationProgress = progress;
        });
      } catch (error) {
        // A post-copy broken after its switch-over leaves the guest here paused and the instance migrating:
        // the destination runs it; resuming it here would make two diverging copies.
        const split = isSnapvmError(error) && error.details["postcopyInterrupted"] === true;
        if (this.state === "migrating" && !split) await this.setState("running", error instanceof Error ? error.message : String(error));
        throw error;
      } finally {
        this.migrationProgress = undefined;
      }
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** A post-copy broken after its switch-over goes on (the guest here stays paused throughout). */
  async resumeMigration(request: MigrateResumeRequest): Promise<MigrateResumeResponse> {
    if (this.state !== "migrating")
      throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${this.name}" is ${this.state}, not migrating`, { details: { instance: this.name } });
    const started = performance.now();
    const run = this.busy.then(() => resumeOut(this.init.vm, request));
    this.busy = run.catch(() => undefined);
    const sent = await run;
    return { bytes: sent.bytes, totalMs: performance.now() - started };
  }

  /** After a migration's switch-over: the destination took over (this QEMU ends) or failed (the guest resumes here). */
  async finishMigration(request: MigrateFinishRequest): Promise<MigrateFinishResponse> {
    if (this.state !== "migrating")
      throw new SnapvmError(ErrorCode.InvalidTransition, `instance "${this.name}" is ${this.state}, not migrating`, { details: { instance: this.name } });
    if (request.outcome === "resume") {
      await this.init.vm.resume();
      await this.setState("running", `the migration to ${request.to} did not complete; the guest runs on here`);
      return { state: "running" };
    }
    // Set before QEMU ends, so onQemuExit leaves the record to this path.
    this.stopping = (async () => {
      const started = performance.now();
      await this.setState("stopping");
      await this.init.vm.quit();
      await this.setState("stopped", `migrated to ${request.to}`);
      this.resolveFinished();
      return { action: "shutdown" as const, totalMs: performance.now() - started };
    })();
    await this.stopping;
    return { state: "stopped" };
  }

  private requireRunning(what: string): void {
    if (this.state !== "running") {
      throw new SnapvmError(ErrorCode.InstanceNotRunning, `instance "${this.name}" is ${this.state}; cannot ${what}`, {
        hint: `Start it with \`snapvm start ${this.name}\`.`,
        details: { instance: this.name, state: this.state },
      });
    }
  }

  async exec(request: ExecRequest): Promise<ExecResponse> {
    this.requireRunning("run a command");
    const guest = await this.init.vm.guest();
    const stdin = request.stdinBase64 === undefined ? Buffer.alloc(0) : Buffer.from(request.stdinBase64, "base64");
    const result = await guest.exec(request.command, { stdin, ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }) });
    return { exitCode: result.exitCode, stdoutBase64: result.stdout.toString("base64"), stderrBase64: result.stderr.toString("base64") };
  }

  patchConfig(patch: ConfigPatch): RuntimeConfig {
    if (patch.saveOnStop !== undefined) {
      this.settings = { ...this.settings, saveOnStop: patch.saveOnStop };
      this.patchedSaveOnStop = patch.saveOnStop;
      this.init.events.write("config", { saveOnStop: patch.saveOnStop });
    }
    return { saveOnStop: this.settings.saveOnStop };
  }

  /** Takes settings read from snapvm.yaml after a restore; a PATCH made meanwhile is not undone. */
  adoptSettings(settings: RuntimeSettings): void {
    this.settings = { ...settings, saveOnStop: this.patchedSaveOnStop ?? settings.saveOnStop };
  }

  /** One operation on the VM at a time: a snapshot and a stop never interleave their QMP steps. */
  private busy: Promise<unknown> = Promise.resolve();

  async snapshot(request: SnapshotRequest): Promise<SnapshotResponse> {
    // The wire carries a plain string: parsed here, the API's only way to a snapshot path.
    const tag = parseSnapshotTag(request.tag);
    this.requireRunning("snapshot it");
    const run = this.busy.then(() => this.operations.liveSnapshot(this.init.vm, this.init.launch, this.init.paths, tag, this.settings.shutdownMs));
    this.busy = run.catch(() => undefined);
    const figures = await run;
    this.init.events.write("snapshot", { tag: figures.tag, pauseMs: figures.pauseMs, memoryCopy: figures.memoryCopy });
    return figures;
  }

  /** A live offload: the guest's state streams to the caller's socket; the guest keeps running. */
  async streamSnapshot(request: StreamSnapshotRequest): Promise<StreamSnapshotResponse> {
    const tag = parseSnapshotTag(request.tag);
    this.requireRunning("stream a snapshot of it");
    const run = this.busy.then(() =>
      this.operations.streamSnapshot(this.init.vm, this.init.paths, { tag, socket: request.socket, diskLayer: request.diskLayer }, this.settings.shutdownMs),
    );
    this.busy = run.catch(() => undefined);
    const figures = await run;
    this.init.events.write("snapshot-stream", { tag: figures.tag, pauseMs: figures.pauseMs, diskLayer: figures.diskLayer });
    return figures;
  }

  async save(): Promise<SaveFigures> {
    const response = await this.stop({ mode: "save" });
    if (response.save === undefined) throw new Error("a save stop returned no save figures");
    return response.save;
  }

  /**
   * Idempotent: a second stop while one is under way gets the same result — except `force`, which
   * preempts anything (a stuck save, a snapshot): QEMU is killed at once and the operation in flight
   * fails (a save's undo removes its temp directory; a state already renamed into place stays).
   */
  stop(request: StopRequest): Promise<StopResponse> {
    if (request.mode === "force") return this.forceStop();
    this.stopping ??= this.performStop(request).finally(() => {
      if (this.state === "running") this.stopping = undefined; // a failed save resumed the guest
    });
    return this.stopping;
  }

  private forcing: Promise<StopResponse> | undefined;

  private forceStop(): Promise<StopResponse> {
    if (this.forcing !== undefined) return this.forcing;
    if (this.state !== "running" && this.state !== "saving" && this.state !== "migrating" && this.state !== "stopping") {
      try {
        this.requireRunning("stop it");
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    const inFlight = this.stopping;
    this.forcing = (async () => {
      const started = performance.now();
      await Promise.resolve(); // this.forcing is set before QEMU dies: onQemuExit stays quiet
      this.init.vm.kill();
      await this.init.vm.exited;
      // The operation in flight fails now that QEMU is gone, and its undo runs; but one stuck where
      // nothing QEMU does reaches it must not hold the stop: after a bound it is left behind (its
      // temp files are removed by the next agent's crash hygiene, their writer being dead).
      await Promise.race([Promise.allSettled([inFlight, this.busy]), sleep(FORCE_UNDO_WAIT_MS, undefined, { ref: false })]);
      // A save that completed just before the kill leaves the instance suspended: that stays true.
      if (this.state !== "suspended" && this.state !== "stopped") await this.setState("stopped", "killed by snapvm stop --force");
      this.resolveFinished();
      return { action: "killed" as const, totalMs: performance.now() - started };
    })();
    this.stopping = this.forcing;
    return this.forcing;
  }

  private async performStop(request: StopRequest): Promise<StopResponse> {
    this.requireRunning("stop it");
    await this.busy; // a snapshot under way finishes (and resumes the guest) first
    const started = performance.now();
    const mode = request.mode === "auto" ? (this.settings.saveOnStop ? "save" : "shutdown") : request.mode;
    const vm = this.init.vm;
    if (mode === "save") {
      await this.setState("saving");
      try {
        const save = await this.operations.saveState(vm, this.init.launch, this.init.paths, this.settings.shutdownMs);
        await vm.quit();
        await this.setState("suspended", `saved (${save.stateBytes} bytes, guest paused ${save.pauseMs.toFixed(1)} ms)`);
        this.resolveFinished();
        return { action: "saved", save, totalMs: performance.now() - started };
      } catch (error) {
        if (this.forcing === undefined) await this.setState("running", `save failed, guest resumed: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
    }
    await this.setState("stopping");
    const how = await vm.powerdown(this.settings.shutdownMs);
    await vm.exited;
    if (this.forcing !== undefined) return this.forcing;
    const ended = { agent: "guest powered off (asked through qemu-guest-agent)", acpi: "guest powered off", quit: "shutdown timed out; QEMU quit" };
    await this.setState("stopped", ended[how]);
    this.resolveFinished();
    return { action: "shutdown", totalMs: performance.now() - started };
  }

  /** QEMU ended without us asking: the guest powered off, or QEMU crashed or was killed. */
  private async onQemuExit(exit: VmExit): Promise<void> {
    if (this.forcing !== undefined || (this.stopping !== undefined && this.state !== "running")) return;
    const clean = exit.code === 0 && exit.signal === null;
    const reason = clean ? "the guest powered off" : exit.reason;
    this.init.events.write("qemu-exit", { code: exit.code, signal: exit.signal, reason });
    await this.setState(clean ? "stopped" : "broken", reason).catch(() => undefined);
    this.resolveFinished();
  }
}
