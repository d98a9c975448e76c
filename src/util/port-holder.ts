import { readdir, readFile, readlink } from "node:fs/promises";

/** A socket line of /proc/net/{tcp,tcp6,udp,udp6}: what finding a port's holder needs. */
export interface ProcNetSocket {
  localPort: number;
  /** The kernel's state number: 0x0A is TCP LISTEN, 0x07 an unconnected UDP socket. */
  state: number;
  inode: number;
}

export const TCP_LISTEN = 0x0a;
export const UDP_UNCONNECTED = 0x07;

/**
 * Parses the text of /proc/net/tcp (or tcp6, udp, udp6): a header line, then one socket per line,
 * `sl local_address rem_address st … uid timeout inode …` with addresses as HEXADDR:HEXPORT.
 * Lines that do not parse are skipped (the format is the kernel's, not ours to refuse).
 */
export function parseProcNet(text: string): ProcNetSocket[] {
  return text
    .split("\n")
    .slice(1)
    .flatMap((line) => {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      const inode = fields[9];
      if (local === undefined || state === undefined || inode === undefined) return [];
      const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
      const parsed = { localPort: port, state: Number.parseInt(state, 16), inode: Number(inode) };
      return Number.isInteger(parsed.localPort) && Number.isInteger(parsed.state) && Number.isSafeInteger(parsed.inode) ? [parsed] : [];
    });
}

/** A process with a socket on the port open. */
export interface PortHolder {
  pid: number;
  /** Its command line, arguments joined by spaces (its name from /proc/PID/comm if that is empty). */
  command: string;
  argv: string[];
}

/** The inode a /proc/PID/fd link names when it is a socket: `socket:[12345]`. */
export function socketInode(link: string): number | undefined {
  const match = /^socket:\[(\d+)\]$/.exec(link);
  return match === null ? undefined : Number(match[1]);
}

async function readOrEmpty(path: string): Promise<string> {
  // Any error (ENOENT: gone meanwhile; EACCES: another user's) means "cannot tell", never a failure.
  return readFile(path, "utf8").catch(() => "");
}

/**
 * Who holds `port` (listening TCP, or bound UDP), from /proc/net and every process's open fds.
 * Best effort: undefined when the kernel tables do not show it or no readable process has the socket
 * (another user's processes are invisible without privileges). Costs a scan of /proc: call it only
 * once a port was found busy.
 */
export async function findPortHolder(protocol: "tcp" | "udp", port: number, proc = "/proc"): Promise<PortHolder | undefined> {
  const tables = protocol === "tcp" ? ["tcp", "tcp6"] : ["udp", "udp6"];
  const wanted = protocol === "tcp" ? TCP_LISTEN : UDP_UNCONNECTED;
  const inodes = new Set<number>();
  for (const table of tables) {
    for (const socket of parseProcNet(await readOrEmpty(`${proc}/net/${table}`))) {
      if (socket.localPort === port && socket.state === wanted && socket.inode !== 0) inodes.add(socket.inode);
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = (await readdir(proc).catch(() => [])).filter((e) => /^\d+$/.test(e));
  for (const pid of pids) {
    const fds = await readdir(`${proc}/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const inode = socketInode(await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => ""));
      if (inode === undefined || !inodes.has(inode)) continue;
      const argv = (await readOrEmpty(`${proc}/${pid}/cmdline`)).split("\0").filter((a) => a !== "");
      const command = argv.length > 0 ? argv.join(" ") : (await readOrEmpty(`${proc}/${pid}/comm`)).trim();
      return { pid: Number(pid), command, argv };
    }
  }
  return undefined;
}
