import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Scratch directories snapvm makes outside $SNAPVM_HOME, in the system temp directory: short paths, since a
 * unix socket path holds at most 107 bytes. Each is removed by the process that made it; a live snapshot's
 * capture directory is also found by its prefix (the crash hygiene's helper-QEMU search) once its maker died.
 */
const PREFIXES = {
  /** A live snapshot's pre-copy receiver's sockets. */
  capture: "snapvm-capture-",
  /** A stream converter's sockets and scratch disk (import-state, an offload bundle's import). */
  import: "snapvm-import-",
  /** The unix socket a live offload's stream arrives on. */
  offload: "snapvm-offload-",
  /** A migration's forwarded sockets, on either host. */
  migration: "snapvm-mig-",
  /** A compressed state stream decompressed for reading. */
  stream: "snapvm-stream-",
} as const;

export type ScratchKind = keyof typeof PREFIXES;

/** The `mkdtemp` prefix of a scratch directory of this kind. */
export function scratchDirPrefix(kind: ScratchKind, parent = tmpdir()): string {
  return join(parent, PREFIXES[kind]);
}

/** The names of the sockets and files inside a scratch directory. */
export const SCRATCH_NAMES = {
  /** A live offload's stream (the CLI listens, QEMU connects). */
  offloadStream: "stream.sock",
  /** A migration's RAM stream, its disk export (NBD) and a post-copy recovery's stream. */
  migrationState: "state.sock",
  migrationDisk: "disk.sock",
  migrationRecover: "recover.sock",
  /** The ssh connection a remote lazy fork's other ssh commands share (ControlPath). */
  sshControl: "ssh.ctl",
  /** A decompressed state stream. */
  rawStream: "stream.raw",
  /** A live offload's stream fed into the importing QEMU (QEMU listens, the import connects). */
  importStream: "load.sock",
} as const;

/** A capture receiver's sockets in its scratch directory (the helper-QEMU search matches `qmpSocket`'s name). */
export function captureSockets(dir: string): {
  qmpSocket: string;
  guestSocket: string;
  qgaSocket: string;
  consoleSocket: string;
  consoleLog: string;
  migration: string;
} {
  return {
    qmpSocket: join(dir, CAPTURE_QMP_NAME),
    guestSocket: join(dir, "guest"),
    qgaSocket: join(dir, "qga"),
    consoleSocket: join(dir, "console"),
    consoleLog: join(dir, "console.log"),
    migration: join(dir, "migration"),
  };
}

export const CAPTURE_QMP_NAME = "qmp";

const FORK_SERVE_ID = /^[0-9a-f]{16}$/;

/**
 * A remote lazy fork's two sockets on the snapshot's host: the fork's host's ssh makes them there
 * (`-R`) as its connection opens, before anything of the fork exists there, so they are straight in
 * /tmp with a random id (16 hex digits; anything else is refused), private to the user (sshd's bind
 * mask), and removed by `snapvm fork-serve` when it ends.
 */
export function forkServeSockets(id: string): { state: string; disk: string } | undefined {
  if (!FORK_SERVE_ID.test(id)) return undefined;
  return { state: `/tmp/snapvm-rfork-${id}-state.sock`, disk: `/tmp/snapvm-rfork-${id}-disk.sock` };
}
