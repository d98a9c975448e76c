import type { AgentController } from "./controller.ts";
import type { Logger } from "./logger.ts";

export interface AgentSignals {
  /** Aborted by the first SIGINT/SIGTERM that arrives before a controller was attached. */
  readonly bringUp: AbortSignal;
  /** From now on a signal stops the VM through the controller (one that came meanwhile does so now). */
  attach(controller: AgentController): void;
}

/**
 * Installed first thing in the agent, so no signal ever finds a QEMU nobody stops.
 * During bring-up a SIGINT/SIGTERM aborts `bringUp` and calls `onBringUpSignal` (the agent kills the
 * half-started QEMU: a cold boot fails, a restore fails into the keep-the-state path) and the agent
 * exits. Once a controller is attached, a signal (the user logs out, the host shuts down) stops the
 * VM as `snapvm stop` would: save when saveOnStop is set (it may have been changed at run time
 * through PATCH /v1/config), else shut down. A second signal while stopping does nothing more; the
 * first stop is already doing the right thing.
 */
export function handleSignals(log: Logger, onBringUpSignal: () => void): AgentSignals {
  const abort = new AbortController();
  let controller: AgentController | undefined;
  const stop = (target: AgentController): void => {
    target.stop({ mode: "auto" }).catch((error: unknown) => {
      log.error({ err: error }, "stop on signal failed; shutting down instead");
      target.stop({ mode: "shutdown" }).catch((second: unknown) => {
        log.error({ err: second }, "shutdown on signal failed");
      });
    });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller !== undefined) {
      log.info({ signal }, "signal received; stopping per saveOnStop");
      stop(controller);
      return;
    }
    log.info({ signal }, "signal received while starting; stopping the half-started VM");
    abort.abort(new Error(`${signal} while starting`));
    onBringUpSignal();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The agent is detached from any terminal; losing it must not kill the VM.
  process.on("SIGHUP", () => undefined);
  return {
    bringUp: abort.signal,
    attach: (attached) => {
      controller = attached;
      if (abort.signal.aborted) stop(attached);
    },
  };
}
