import { existsSync } from "node:fs";
import { readConfigFile, withDefaults, type CompleteConfigFile } from "../../config/index.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance, type InstanceSummary } from "../../store/inspect.ts";
import { fileSizes, type FileSizes } from "../../util/file-facts.ts";
import { readPinnedLaunch } from "../boot/pinned-boot.ts";
import { listFailedStates } from "../suspend/failed-states.ts";
import { type PinnedLaunch } from "../../snapshot/launch.ts";
import { readMigrationRecord, type MigrationRecord } from "../migrate/record.ts";

export interface InstanceInfo extends InstanceSummary {
  /** The config as snapvm.yaml says now, defaults filled in; or why it cannot be read. */
  config: CompleteConfigFile | { error: string };
  /** What the VM last booted with: accelerator and why, QEMU version, the exact argv. */
  boot?: PinnedLaunch;
  files: {
    config: string;
    disk: string;
    memory: string;
    agentLog: string;
    consoleLog: string;
    sockets: { agent: string; qmp: string; guest: string; qga: string; console: string };
  };
  sizes: { disk?: FileSizes; memory?: FileSizes };
  /** States kept aside after failed restores (`snapvm state list NAME`). */
  failedStates: { count: number; allocatedBytes: number };
  /** Where the instance came from or went to by `snapvm migrate`, with times. */
  migration?: MigrationRecord;
}

async function sizesOf(path: string): Promise<FileSizes | undefined> {
  return existsSync(path) ? fileSizes(path) : undefined;
}

export async function instanceInfo(name: InstanceName, home?: string): Promise<InstanceInfo> {
  const summary = await inspectInstance(name, home);
  const paths = instancePaths(name, home);
  const config = await readConfigFile(paths.config).then(withDefaults, (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
  const boot = await readPinnedLaunch(paths).catch(() => undefined);
  const [disk, memory, failed, migration] = await Promise.all([
    sizesOf(paths.disk),
    sizesOf(paths.memory),
    listFailedStates(paths),
    readMigrationRecord(paths),
  ]);
  return {
    ...summary,
    config,
    ...(boot === undefined ? {} : { boot }),
    files: {
      config: paths.config,
      disk: paths.disk,
      memory: paths.memory,
      agentLog: paths.agentLog,
      consoleLog: paths.consoleLog,
      sockets: { agent: paths.agentSocket, qmp: paths.qmpSocket, guest: paths.guestSocket, qga: paths.qgaSocket, console: paths.consoleSocket },
    },
    sizes: { ...(disk === undefined ? {} : { disk }), ...(memory === undefined ? {} : { memory }) },
    failedStates: { count: failed.length, allocatedBytes: failed.reduce((sum, s) => sum + s.allocatedBytes, 0) },
    ...(migration === undefined ? {} : { migration }),
  };
}
