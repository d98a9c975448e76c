import { readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { driver } from "../../driver/index.ts";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import type { InstancePaths } from "../../paths/index.ts";
import { processAlive } from "../../util/process-alive.ts";

const KILL_WAIT_MS = 15_000;

/** SIGKILLs a process and waits until it is gone: until then it holds the disk's lock and its sockets. */
export async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if (isErrno(error, "ESRCH")) return;
    throw error;
  }
  const deadline = Date.now() + KILL_WAIT_MS;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`QEMU pid ${pid} did not exit within ${KILL_WAIT_MS} ms of SIGKILL`);
    await sleep(5);
  }
}

/**
 * The pid a temp name ends with (`.TAG.tmp-PID`, `suspend.tmp-PID`, `.NAME.import-PID`, `x.link-PID`,
 * `.f.tmp-PID-TIME`, `.NAME.tmp-PID-HEX`: the last part after the pid is decimal or hex).
 */
export function writerPid(entry: string, marks: readonly string[]): number | undefined {
  for (const mark of marks) {
    const match = new RegExp(`${mark.replace(".", "\\.")}-(\\d+)(-[0-9a-f]+)?$`).exec(entry);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}

/** Removes the entries of `dir` that `belongs` accepts and whose writer is dead. */
async function removeStale(dir: string, belongs: (entry: string) => boolean, marks: readonly string[], done: string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return;
    throw error;
  }
  for (const entry of entries) {
    if (!belongs(entry)) continue;
    const pid = writerPid(entry, marks);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
    done.push(`removed ${join(basename(dir), entry)}, left by dead process ${pid}`);
  }
}

/**
 * What a killed snapvm process leaves behind for this instance, removed: half-written snapshots
 * (`snapshots/.TAG.tmp-PID`), a half-made instance directory (`instances/.NAME.tmp-PID`,
 * `.NAME.import-PID`), a half-written state (`suspend.tmp-PID`), temp files of atomic writes and
 * disk links, and helper QEMUs (a pre-copy receiver) with their socket directories. Only what a
 * dead pid wrote is touched, so a live writer (a background compression) is safe. The instance's own
 * QEMU is not touched here: whether it is adopted or killed is the caller's decision.
 * `processes: false` skips the /proc scan (~30 ms), for a caller that knows no snapvm process of the
 * instance died while active. Call only while holding the instance lock. Returns what was done, for
 * the events log.
 */
export async function cleanUpAfterCrash(paths: InstancePaths, options: { processes?: boolean } = {}): Promise<string[]> {
  const done: string[] = [];
  for (const helper of options.processes === false ? [] : await driver.launcher.helperProcesses(basename(paths.dir))) {
    await killAndWait(helper.pid);
    await rm(helper.socketDir, { recursive: true, force: true });
    done.push(`killed the orphaned helper QEMU pid ${helper.pid} (${helper.argv[helper.argv.indexOf("-name") + 1] ?? "?"}) and removed ${helper.socketDir}`);
  }
  await removeStale(paths.snapshotsDir, (e) => e.startsWith("."), [".tmp"], done);
  done.push(...(await removeStaleInstanceTemps(dirname(paths.dir), basename(paths.dir))));
  await removeStale(
    paths.dir,
    (e) => e.startsWith(`${basename(paths.suspendDir)}.tmp-`) || e.startsWith(`${basename(paths.disk)}.link-`) || (e.startsWith(".") && e.includes(".tmp-")),
    [".tmp", ".link"],
    done,
  );
  await removeStale(paths.bootDir, (e) => e.startsWith(".") && e.includes(".tmp-"), [".tmp"], done);
  return done;
}

/**
 * The hidden siblings in instances/ that a killed create, fork, import or delete left
 * (`.NAME.tmp-PID-HEX`, `.NAME.import-PID`, `.NAME.delete-PID`), removed once their writer is dead:
 * those of `name` only, or of every name. Nothing holds a lock on a name that does not exist yet, so
 * this runs without one: the dead writer's pid is what makes an entry safe to remove. Called by the
 * crash hygiene, by a new instance's builder for its name, and by `list`.
 */
export async function removeStaleInstanceTemps(instancesDir: string, name?: string): Promise<string[]> {
  const done: string[] = [];
  const marks = [".tmp", ".import", ".delete"];
  const belongs = (e: string): boolean =>
    e.startsWith(".") && (name === undefined ? marks.some((m) => e.includes(`${m}-`)) : marks.some((m) => e.startsWith(`.${name}${m}-`)));
  await removeStale(instancesDir, belongs, marks, done);
  return done;
}

/**
 * For a command that took the instance lock to change its files (an offline snapshot, a snapshot
 * restore, a delete): crash hygiene, then the instance's own QEMU, if a dead agent left it running.
 * `refuse` keeps the guest (the command fails, naming `snapvm start`, which re-adopts it); `kill` is
 * for a command whose point is to replace or remove what runs.
 */
export async function cleanUpUnderLock(paths: InstancePaths, orphan: "refuse" | "kill"): Promise<string[]> {
  const done = await cleanUpAfterCrash(paths);
  const name = basename(paths.dir);
  for (const qemu of await driver.launcher.processesServing(paths.qmpSocket)) {
    if (orphan === "refuse") {
      throw new SnapvmError(ErrorCode.InstanceRunning, `instance "${name}" still runs (QEMU pid ${qemu.pid}), though its agent died`, {
        hint: `\`snapvm start ${name}\` re-adopts the running VM; then retry.`,
        details: { instance: name, qemuPid: qemu.pid },
      });
    }
    await killAndWait(qemu.pid);
    done.push(`killed QEMU pid ${qemu.pid} left by a dead agent`);
  }
  return done;
}
