import { closeSync, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Server } from "node:http";
import { isSnapvmError, ErrorCode, SnapvmError } from "../errors/index.ts";
import { instancePaths, parseInstanceName, snapvmHome, type InstancePaths } from "../paths/index.ts";
import { acquireLock, type InstanceLock } from "../store/lock.ts";
import { readStatus, writeStatus, type InstanceStatus } from "../store/status.ts";
import { isActive, type InstanceState } from "../store/instance-state.ts";
import { isHostRefusal } from "../instance/boot/port-refusal.ts";
import type { RunningVm } from "../driver/index.ts";
import { bringUp, currentSettings, type BringUpResult } from "./bring-up.ts";
import { adoptOrphan } from "./adopt.ts";
import type { AgentController } from "./controller.ts";
import { EventLog } from "./events.ts";
import { createLogger, type Logger } from "./logger.ts";
import type { Reporter } from "./report.ts";
import { handleSignals } from "./signals.ts";
import { reapOrphans } from "./reap-orphans.ts";
import { ensureLayeredDisk } from "../instance/disk/layers.ts";
import { failPoint } from "../util/fault-point.ts";

/** How long in-flight API replies get once the VM has stopped, before their connections are closed. */
const CLOSE_GRACE_MS = 2000;

function toUserError(error: unknown): SnapvmError {
  return isSnapvmError(error) ? error : new SnapvmError(ErrorCode.AgentFailed, error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * Serves one instance in the agent (`snapvm agent NAME...`, agent/group.ts): takes the instance's
 * lock, restores or boots the VM, reports the outcome through `reporter`, then serves /v1 on the
 * instance's own socket until the VM stops. Everything it holds is the instance's own (lock, log,
 * socket, controller, QEMU), so instances served by the same process end independently. Logs go to
 * the instance's agent.log. Returns the instance's exit code.
 */
export async function runAgent(text: string, reporter: Reporter): Promise<number> {
  const { report } = reporter;
  const home = snapvmHome();
  let name;
  try {
    name = parseInstanceName(text);
  } catch (error) {
    report({ kind: "failed", error: toUserError(error).toJSON() });
    reporter.settled();
    return 1;
  }
  const paths = instancePaths(name, home);
  const logFd = openSync(paths.agentLog, "a");
  const log = createLogger(name, logFd);
  let lock: InstanceLock;
  try {
    lock = await acquireLock(paths.agentLock, name);
  } catch (error) {
    report({ kind: "failed", error: toUserError(error).toJSON() });
    reporter.settled();
    closeSync(logFd);
    return 1;
  }
  const events = new EventLog(paths.events);
  // The controller (with save and snapshot) and the API stack (hono, zod) load once QEMU is up and the
  // agent's thread mostly waits on it: not before, where ~0.15 s of module loading would delay QEMU's
  // start, nor after the guest answers, where it would delay every first command.
  let later: Promise<[typeof import("./controller.ts"), typeof import("./server.ts"), typeof import("./console-ws.ts")]> | undefined;
  const loadLater = (): NonNullable<typeof later> => (later ??= Promise.all([import("./controller.ts"), import("./server.ts"), import("./console-ws.ts")]));
  let server: Server | undefined;
  let vm: RunningVm | undefined;
  // Signals are handled from the start: one during bring-up kills the half-started QEMU.
  let halfStarted: RunningVm | undefined;
  let previous: InstanceStatus | undefined;
  const signals = handleSignals(log, () => {
    halfStarted?.kill();
  });
  try {
    previous = await readStatus(paths.status);
    const orphans = await reapOrphans(paths, previous);
    for (const what of orphans.done) {
      events.write("reaped", { what });
      log.warn(what);
    }
    const adoption = orphans.adopt === undefined ? undefined : await adoptOrphan(paths, orphans.adopt);
    if (adoption !== undefined && "killed" in adoption) {
      events.write("reaped", { what: adoption.killed });
      report({ kind: "notice", message: adoption.killed });
      log.warn(adoption.killed);
    }
    const adopted = adoption !== undefined && "adopted" in adoption ? adoption.adopted : undefined;
    let up: Omit<BringUpResult, "kind" | "accelReason"> & { kind: BringUpResult["kind"]; accelReason: string; adopted?: true };
    if (adopted !== undefined) {
      const notice = "re-adopted the running VM (its agent had died)";
      for (const warning of adopted.warnings) log.warn(warning);
      events.write("adopted", { qemuPid: adopted.vm.pid, steps: adopted.warnings });
      report({ kind: "notice", message: [notice, ...adopted.warnings].join("; ") });
      log.warn(notice);
      up = {
        vm: adopted.vm,
        launch: adopted.launch,
        settings: adopted.settings,
        readyMs: adopted.readyMs,
        accelReason: adopted.launch.accelReason,
        kind: previous?.bootKind ?? "cold",
        adopted: true,
      };
    } else {
      await ensureLayeredDisk(paths);
      await writeStatus(paths.status, { state: "starting", agentPid: process.pid });
      await failPoint(`agent:bring-up:${name}`); // tests: one instance of a group fails to come up
      up = await bringUp(name, paths, events, {
        home,
        signal: signals.bringUp,
        onProgress: (step) => {
          report({ kind: "progress", step });
          log.info({ step }, "progress");
        },
        onNotice: (message) => {
          report({ kind: "notice", message });
          log.warn(message);
        },
        onQemuStderr: (line) => {
          log.warn({ qemu: line }, "qemu stderr");
        },
        onQemuUp: (started) => {
          halfStarted = started;
          if (signals.bringUp.aborted) started.kill();
          loadLater().catch(() => undefined);
        },
        onWarning: (message) => {
          events.write("warning", { message });
          log.warn(message);
        },
      });
    }
    vm = up.vm;
    halfStarted = undefined; // up: a signal from here on stops it through the controller
    const [{ AgentController }, apiModule, consoleModule] = await loadLater();
    const controller: AgentController = new AgentController({
      name,
      paths,
      settings: up.settings,
      launch: up.launch,
      vm: up.vm,
      events,
      initialState: up.kind === "restore" && up.adopted !== true ? "restoring" : "starting",
      status: {
        agentPid: process.pid,
        qemuPid: up.vm.pid,
        accel: up.vm.spec.accel,
        accelReason: up.accelReason,
        qemuVersion: up.vm.version,
        startedAt: up.adopted === true ? (previous?.startedAt ?? new Date().toISOString()) : new Date().toISOString(),
        bootKind: up.kind,
        readyMs: Math.round(up.readyMs),
        ...(up.adopted === true ? { lastEvent: "re-adopted the running VM (its agent had died)" } : {}),
        ...(up.restoreFailure === undefined ? {} : { lastEvent: `restore failed: ${up.restoreFailure}` }),
      },
    });
    await controller.setState("running");
    signals.attach(controller);
    // Ready is reported before the API listens: clients retry a missing socket while this agent lives.
    report({ kind: "ready", status: controller.status() });
    reporter.settled();
    server = await serveApi(apiModule, controller, paths.agentSocket, log);
    await consoleModule.attachConsoleHub(server, paths.consoleSocket, log);
    if (up.kind === "restore" && up.adopted !== true) await refreshSettings(controller, paths, log);
    await controller.finished;
    return 0;
  } catch (error) {
    const userError = toUserError(error);
    log.error({ err: error }, "agent failed");
    const doomed = vm ?? halfStarted;
    if (doomed !== undefined) {
      doomed.kill(); // a VM nobody controls must not outlive its agent
      await doomed.exited;
    }
    events.write("failed", { code: userError.code, message: userError.message });
    const stoppedBySignal = signals.bringUp.aborted;
    // A host refusal (a port taken, a launch file missing, no space) started nothing: the instance is as it was.
    const refused = vm === undefined && isHostRefusal(error);
    await writeStatus(paths.status, {
      state: stoppedBySignal ? "stopped" : refused ? stateBefore(previous?.state) : "broken",
      lastEvent: stoppedBySignal ? `stopped by a signal while starting: ${userError.message}` : userError.message,
    }).catch(() => undefined);
    report({ kind: "failed", error: userError.toJSON() });
    reporter.settled();
    return 1;
  } finally {
    await closeServer(server);
    await Promise.all([paths.agentSocket, paths.qmpSocket, paths.guestSocket, paths.qgaSocket, paths.consoleSocket].map((p) => rm(p, { force: true })));
    await lock.release();
    closeSync(logFd);
  }
}

/** What an instance refused at start is: what it was before (an instance never started is `created`). */
function stateBefore(state: InstanceState | undefined): InstanceState {
  if (state === undefined) return "created";
  return isActive(state) || state === "broken" ? "stopped" : state;
}

/** Serves /v1 with the API stack (hono, zod) preloaded by runAgent. */
async function serveApi(api: typeof import("./server.ts"), controller: AgentController, socketPath: string, log: Logger): Promise<Server> {
  const { buildApp, listenOnSocket } = api;
  return listenOnSocket(
    buildApp(controller, (error) => {
      log.error({ err: error }, "unexpected error in a request");
    }),
    socketPath,
  );
}

/** snapvm.yaml may have changed saveOnStop or timeouts while the VM was suspended; they apply now. */
async function refreshSettings(controller: AgentController, paths: InstancePaths, log: Logger): Promise<void> {
  try {
    controller.adoptSettings(await currentSettings(paths));
  } catch (error) {
    log.warn({ err: error }, "snapvm.yaml could not be read; keeping the settings the VM booted with");
  }
}

async function closeServer(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
    // Clients connect per call (agent: false), so nothing idle lingers; in-flight replies finish first,
    // within a bound: a request whose operation `stop --force` preempted may never get its reply.
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, CLOSE_GRACE_MS).unref();
  });
}
