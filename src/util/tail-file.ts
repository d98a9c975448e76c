import { open } from "node:fs/promises";

/** The last `lines` lines of a (possibly large, possibly missing) log file, reading only its end. */
export async function tailFile(path: string, lines: number, maxBytes = 64 * 1024): Promise<string> {
  const handle = await open(path, "r").catch(() => undefined);
  if (handle === undefined) return "";
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer
      .toString("utf8")
      // eslint-disable-next-line no-control-regex -- the console log carries terminal escapes
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
      .replace(/\r/g, "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } finally {
    await handle.close();
  }
}
