import { existsSync } from "node:fs";
import { lstat, readlink, rename, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { dirname, resolve } from "node:path";
import { isErrno } from "../../errors/index.ts";
import { instancePaths, type InstanceName, type InstancePaths } from "../../paths/index.ts";
import { fileSizes } from "../../util/file-facts.ts";
import { copySparse } from "../../util/sparse-copy.ts";
import { saveInstance } from "../lifecycle/save.ts";
import { startInstance } from "../lifecycle/start.ts";
import type { RamSettle } from "./protocol.ts";

/** The tmpfs file memory.ram links to while a post-copied guest's RAM is there, if it does. */
export async function postcopyRamTarget(paths: InstancePaths): Promise<string | undefined> {
  try {
    if (!(await lstat(paths.memory)).isSymbolicLink()) return undefined;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  return resolve(dirname(paths.memory), await readlink(paths.memory));
}

/**
 * After a post-copy, the guest's RAM goes back from tmpfs to the instance's own file (snapvm's usual
 * layout: it survives a host reboot and frees the tmpfs): QEMU cannot remap a running guest's RAM, so
 * this is a save (device state only: x-ignore-shared, the RAM is the file), a sparse copy of the RAM
 * file into the instance directory over the link, and a resume. It costs the guest one pause of about
 * a suspend plus a resume plus the copy of the RAM it touched.
 */
export async function settlePostcopyRam(name: InstanceName, home: string): Promise<RamSettle> {
  const paths = instancePaths(name, home);
  const tmpfsFile = await postcopyRamTarget(paths);
  if (tmpfsFile === undefined) return { pauseMs: 0, copiedBytes: 0 };
  // Two migrate-receives may get here (the first, and one recovering a broken post-copy): one settles.
  const marker = `${paths.memory}.settling`;
  try {
    await writeFile(marker, String(process.pid), { flag: "wx" });
  } catch (error) {
    if (!isErrno(error, "EEXIST")) throw error;
    while (existsSync(marker)) await sleep(100);
    return { pauseMs: 0, copiedBytes: 0 };
  }
  try {
    const started = performance.now();
    await saveInstance(name, home);
    const temp = `${paths.memory}.settle-${process.pid}`;
    await copySparse(tmpfsFile, temp);
    await rename(temp, paths.memory);
    await rm(tmpfsFile, { force: true });
    await startInstance(name, { home });
    return { pauseMs: performance.now() - started, copiedBytes: (await fileSizes(paths.memory)).allocatedBytes };
  } finally {
    await rm(marker, { force: true });
  }
}
