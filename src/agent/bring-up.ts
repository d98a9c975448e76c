import { existsSync } from "node:fs";
import type { BootHooks, BootedVm } from "../instance/boot/cold-boot.ts";
import { readPinnedConfig } from "../instance/boot/pinned-boot.ts";
import { checkRestorable, GUEST_RAN_REASON, moveStateAside, restoreSuspended, stateWasResumed, verifyDigests } from "../instance/suspend/restore-state.ts";
import { ErrorCode, SnapvmError, isSnapvmError } from "../errors/index.ts";
import { checkHostResources } from "../instance/boot/host-resources.ts";
import { isHostRefusal } from "../instance/boot/port-refusal.ts";
import { settingsFromConfig, settingsFromPinned, type RuntimeSettings } from "../instance/boot/settings.ts";
import { readManifest } from "../snapshot/read-manifest.ts";
import type { InstanceName, InstancePaths } from "../paths/index.ts";
import type { EventLog } from "./events.ts";

export interface BringUpResult extends BootedVm {
  kind: "cold" | "restore";
  settings: RuntimeSettings;
  /** Set when a saved state existed but could not be restored. */
  restoreFailure?: string;
}

/**
 * Restore when a saved state is present, else cold boot. A restore that fails because of the state
 * moves the state aside under failed-states/ with its REASON (never deleting it), says why, and cold
 * boots: a start never hangs. Three exceptions, each leaving the state where it is: the host lacks
 * what the pinned launch needs (a port taken, a launch file missing, no space: checkHostResources,
 * or QEMU failing on a port taken since; the refusal is thrown and nothing boots, since a cold boot
 * would need the same), a state that cannot be moved aside (the error is thrown; nothing boots over
 * it), and a restore stopped by `signal` before the guest ran (the state is as good as before;
 * nothing boots, the agent exits).
 * A state a previous restore already resumed (its agent died before consuming it) is never restored:
 * the guest ran on its RAM file and disk since.
 * The restore path loads nothing it does not need before the guest answers (see settings.ts).
 */
export async function bringUp(
  name: InstanceName,
  paths: InstancePaths,
  events: EventLog,
  hooks: BootHooks & { onNotice: (message: string) => void; signal?: AbortSignal },
): Promise<BringUpResult> {
  let restoreFailure: string | undefined;
  const keepAside = async (reason: string): Promise<void> => {
    let aside: string | undefined;
    try {
      aside = await moveStateAside(paths, reason);
    } catch (error) {
      throw new SnapvmError(
        ErrorCode.RestoreFailed,
        `instance "${name}": ${reason}; and the state could not be moved aside (${error instanceof Error ? error.message : String(error)}), so it stays in ${paths.suspendDir} and nothing was booted over it`,
        { cause: error, details: { instance: name } },
      );
    }
    restoreFailure = reason;
    events.write("restore-failed", { reason, movedTo: aside ?? null });
    hooks.onNotice(`restore failed, cold booting instead: ${reason}${aside === undefined ? "" : ` (state kept in ${aside})`}`);
  };
  if (existsSync(paths.incoming)) {
    // A migration coming in (migrate-receive made this instance): receive it, or fail; never boot instead.
    const { receiveIncoming } = await import("../instance/migrate/incoming.ts");
    const booted = await receiveIncoming(paths, hooks);
    events.write("migrated-in", { readyMs: booted.readyMs });
    return { ...booted, kind: "restore", settings: settingsFromPinned(await readPinnedConfig(paths)) };
  }
  if (existsSync(paths.suspendDir) && stateWasResumed(paths)) {
    await keepAside(`a previous restore resumed the guest and its agent died before the guest answered; ${GUEST_RAN_REASON}`);
  } else if (existsSync(paths.suspendDir)) {
    let checkingHost = false;
    try {
      const manifest = await readManifest(paths.suspendDir);
      // What the host must supply (ports, launch files, space) is checked before anything is consumed;
      // any failure of the check itself (an unexpected errno) is the host's too, never the state's.
      checkingHost = true;
      await checkHostResources({
        spec: manifest.launch.spec,
        shareMemory: manifest.launch.argvOptions?.shareMemory !== false,
        purpose: "restore",
        ...home(hooks),
      });
      checkingHost = false;
      await checkRestorable(paths, manifest);
      const settings = readPinnedConfig(paths).then(settingsFromPinned);
      const checked = Promise.all([settings, verifyDigests(paths, manifest)]).then(([pinned]) => ({ timeoutMs: pinned.restoreMs }));
      const booted = await restoreSuspended(manifest, paths, checked, hooks);
      events.write("restored", { readyMs: booted.readyMs });
      return { ...booted, kind: "restore", settings: await settings };
    } catch (error) {
      if (checkingHost || isHostRefusal(error)) throw error; // the host lacks something, the state is not at fault: it stays in suspend/
      const guestRan = isSnapvmError(error) && error.details["guestRan"] === true;
      if (hooks.signal?.aborted === true && !guestRan) throw error; // the state is untouched: it stays in suspend/
      const message = error instanceof Error ? error.message : String(error);
      await keepAside(guestRan ? `${message}; ${GUEST_RAN_REASON}` : message);
    }
  }
  if (hooks.signal?.aborted === true)
    throw new SnapvmError(ErrorCode.AgentFailed, `instance "${name}": stopped by a signal while starting`, { details: { instance: name } });
  const [{ readConfigFile, resolveConfig, withDefaults }, { coldBoot }] = await Promise.all([
    import("../config/index.ts"),
    import("../instance/boot/cold-boot.ts"),
  ]);
  const file = withDefaults(await readConfigFile(paths.config));
  const config = resolveConfig(file, { baseDir: paths.dir, sourceName: paths.config });
  const booted = await coldBoot(name, paths, file, config, hooks);
  return { ...booted, kind: "cold", settings: settingsFromConfig(config), ...(restoreFailure === undefined ? {} : { restoreFailure }) };
}

function home(hooks: { home?: string }): { home?: string } {
  return hooks.home === undefined ? {} : { home: hooks.home };
}

/** After a restore: the settings in snapvm.yaml now (saveOnStop may have been edited while suspended). */
export async function currentSettings(paths: InstancePaths): Promise<RuntimeSettings> {
  const { loadConfigFile } = await import("../config/index.ts");
  return settingsFromConfig(await loadConfigFile(paths.config));
}
