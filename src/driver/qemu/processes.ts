import { readdir, readFile } from "node:fs/promises";
import { CAPTURE_QMP_NAME, scratchDirPrefix } from "../../paths/index.ts";
import { basename } from "node:path";
import { processAlive } from "../../util/process-alive.ts";
import type { VmmProcess } from "../driver.ts";
import { escapeOptionValue } from "./argv.ts";

/** Every live QEMU on the host with its argv (without the binary), from /proc (~30 ms). */
async function liveQemus(): Promise<VmmProcess[]> {
  const found: VmmProcess[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const [binary = "", ...argv] = cmdline.split("\0").filter((arg) => arg !== "");
    if (basename(binary).startsWith("qemu-system") && processAlive(Number(entry))) found.push({ pid: Number(entry), argv });
  }
  return found;
}

/** The QEMU serving this instance: its argv names the instance's QMP socket, which no other process shares. */
export async function findInstanceQemus(qmpSocket: string): Promise<VmmProcess[]> {
  const qmp = `unix:${escapeOptionValue(qmpSocket)},`;
  return (await liveQemus()).filter((q) => q.argv.some((arg) => arg.startsWith(qmp)));
}

/**
 * Helper QEMUs of this instance: the pre-copy receiver of a live snapshot (precopy.ts) runs as
 * `-name snapvm-NAME-capture` with its sockets in a temp directory `snapvm-capture-*`; both are
 * needed to tell it from an instance that happens to be called NAME-capture.
 */
export async function findHelperQemus(instance: string): Promise<(VmmProcess & { socketDir: string })[]> {
  const name = `snapvm-${instance}-capture`;
  const prefix = scratchDirPrefix("capture");
  const helpers: (VmmProcess & { socketDir: string })[] = [];
  for (const q of await liveQemus()) {
    const nameAt = q.argv.indexOf("-name");
    if (nameAt < 0 || q.argv[nameAt + 1] !== name) continue;
    const socket = q.argv.map((arg) => new RegExp(`unix:([^,]+)/${CAPTURE_QMP_NAME},`).exec(arg)?.[1]).find((dir) => dir?.startsWith(prefix) === true);
    if (socket !== undefined) helpers.push({ ...q, socketDir: socket.replaceAll(",,", ",") });
  }
  return helpers;
}
