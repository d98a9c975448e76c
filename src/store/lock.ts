import { open, readFile, unlink } from "node:fs/promises";
import { ErrorCode, SnapvmError, isErrno } from "../errors/index.ts";
import { processAlive } from "../util/process-alive.ts";

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

/**
 * One agent per instance: the lock file is created exclusively and holds the owner's pid.
 * A lock whose owner is dead is stale and taken over.
 */
export async function acquireLock(path: string, instance: string): Promise<InstanceLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return {
        release: async () => {
          if ((await readOwner(path)) === process.pid) await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error;
    }
    const owner = await readOwner(path);
    if (owner !== undefined && processAlive(owner)) {
      throw new SnapvmError(ErrorCode.InstanceLocked, `instance "${instance}" is already owned by agent pid ${owner}`, {
        hint: `Another start or stop is in progress; check \`snapvm info ${instance}\`.`,
        details: { instance, pid: owner },
      });
    }
    await unlink(path).catch(() => undefined);
  }
  throw new SnapvmError(ErrorCode.InstanceLocked, `instance "${instance}": could not take the lock ${path}`, { details: { instance } });
}

export async function lockOwner(path: string): Promise<number | undefined> {
  const owner = await readOwner(path);
  return owner !== undefined && processAlive(owner) ? owner : undefined;
}
