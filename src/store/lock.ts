import { randomBytes } from "node:crypto";
import { link, lstat, open, readFile, unlink } from "node:fs/promises";
import { ErrorCode, SnapvmError, isErrno } from "../errors/index.ts";
import { processAlive } from "../util/process-alive.ts";
import { PRIVATE_FILE_MODE } from "../util/private-tree.ts";

export interface InstanceLock {
  release(): Promise<void>;
}

async function readOwner(path: string): Promise<number | undefined> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    if (isErrno(error, "ENOENT")) return "";
    throw error;
  });
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function inodeOf(path: string): Promise<number | undefined> {
  return lstat(path).then(
    (s) => s.ino,
    (error: unknown) => {
      if (isErrno(error, "ENOENT")) return undefined;
      throw error;
    },
  );
}

/** A sibling of the lock only this call uses: `link()` needs a complete file to publish. */
function privateName(path: string, what: string): string {
  return `${path}.${what}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** A breaker that died holding the guard is assumed after this long; breaking takes microseconds. */
const STALE_GUARD_MS = 10_000;

/**
 * Removes the lock at `path` only if it is still the stale file `staleInode`. POSIX has no
 * compare-and-delete, so breakers take a guard first (`path.break`, created exclusively): while it is
 * held, only its holder removes the lock file, takers only `link()` (which never replaces a file),
 * and the stale file's owner is dead, so the check below and the unlink see the same file.
 * Returns false when another breaker holds the guard (the caller retries).
 */
async function breakStale(path: string, staleInode: number): Promise<boolean> {
  const guard = `${path}.break`;
  let handle;
  try {
    handle = await open(guard, "wx", PRIVATE_FILE_MODE);
  } catch (error) {
    if (!isErrno(error, "EEXIST")) throw error;
    const age = await lstat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_GUARD_MS) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    await handle.close();
    if ((await inodeOf(path)) === staleInode) await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function locked(instance: string, owner: number): SnapvmError {
  return new SnapvmError(ErrorCode.InstanceLocked, `instance "${instance}" is already owned by agent pid ${owner}`, {
    hint: `Another start or stop is in progress; check \`snapvm info ${instance}\`.`,
    details: { instance, pid: owner },
  });
}

/**
 * One owner per instance (agent, or an offline snapshot operation). The protocol, so that no reader
 * ever sees a lock file without its pid:
 *   1. write our pid to a private sibling, fsync it;
 *   2. `link()` it to the lock path: atomic, fails with EEXIST if a lock exists;
 *   3. on EEXIST read the owner: alive → E_INSTANCE_LOCKED; dead (or unreadable) → remove that stale
 *      file under the break guard (breakStale) and go to 2;
 *   4. remove the private sibling either way.
 * Release removes the lock only while it is still our file (same inode).
 */
export async function acquireLock(path: string, instance: string): Promise<InstanceLock> {
  const mine = privateName(path, "new");
  const handle = await open(mine, "wx", PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(String(process.pid));
    await handle.sync();
  } finally {
    await handle.close();
  }
  const inode = await inodeOf(mine);
  try {
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      try {
        await link(mine, path);
        return {
          release: async () => {
            if ((await inodeOf(path)) === inode) await unlink(path).catch(() => undefined);
          },
        };
      } catch (error) {
        if (!isErrno(error, "EEXIST")) throw error;
      }
      const staleInode = await inodeOf(path);
      if (staleInode === undefined) continue; // released meanwhile
      const owner = await readOwner(path);
      if (owner !== undefined && processAlive(owner)) throw locked(instance, owner);
      if (!(await breakStale(path, staleInode))) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  throw new SnapvmError(ErrorCode.InstanceLocked, `instance "${instance}": could not take the lock ${path}`, { details: { instance } });
}

export async function lockOwner(path: string): Promise<number | undefined> {
  const owner = await readOwner(path);
  return owner !== undefined && processAlive(owner) ? owner : undefined;
}
