import type { AgentController } from "./controller.ts";
import type { Logger } from "./logger.ts";

/**
 * SIGINT/SIGTERM (the user logs out, the host shuts down) stop the VM as `snapvm stop` would:
 * save when saveOnStop is set (it may have been changed at run time through PATCH /v1/config),
 * else shut down. A second signal while stopping does nothing more; the first stop is already
 * doing the right thing.
 */
export function handleSignals(controller: AgentController, log: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, "signal received; stopping per saveOnStop");
    controller.stop({ mode: "auto" }).catch((error: unknown) => {
      log.error({ err: error }, "stop on signal failed; shutting down instead");
      controller.stop({ mode: "shutdown" }).catch((second: unknown) => { log.error({ err: second }, "shutdown on signal failed"); });
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The agent is detached from any terminal; losing it must not kill the VM.
  process.on("SIGHUP", () => undefined);
}
