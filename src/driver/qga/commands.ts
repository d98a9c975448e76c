import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { ExecResult } from "../guest/guest-exec.ts";
import { trace } from "../../util/trace.ts";
import type { QgaClient } from "./client.ts";

/**
 * Polling guest-exec-status: first soon (a short command is done in milliseconds), then backing off
 * to STATUS_POLL_SHORT_MS while the command is young (a first command after a restore takes 0.1–0.5 s
 * under TCG, and each poll costs the guest well under a millisecond), then to STATUS_POLL_LONG_MS.
 */
const STATUS_POLL_FIRST_MS = 5;
const STATUS_POLL_SHORT_MS = 25;
const STATUS_POLL_LONG_MS = 200;
const YOUNG_COMMAND_MS = 2000;

function malformed(client: QgaClient, command: string, value: unknown): SnapvmError {
  // JSON.stringify(undefined) is undefined, whatever its declared type says.
  const shown = JSON.stringify(value) as unknown;
  return new SnapvmError(
    ErrorCode.GuestChannel,
    `${client.label}: qemu-guest-agent answered ${command} with ${typeof shown === "string" ? shown.slice(0, 200) : "nothing"}`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function qgaPing(client: QgaClient, timeoutMs: number): Promise<void> {
  await client.execute("guest-ping", undefined, { timeoutMs });
}

/**
 * Sets the guest's clock to the host's as the request leaves, in nanoseconds (as a JSON number: a
 * double, exact to 256 ns at today's epoch). The agent sets the system clock first, then the RTC
 * with `hwclock -w`; it answers after both.
 */
export async function qgaSetTimeToHost(client: QgaClient, timeoutMs: number, leadMs = 0): Promise<void> {
  await client.execute("guest-set-time", { time: hostNanoseconds() + Math.round(leadMs * 1e6) }, { timeoutMs });
}

export interface ClockReading {
  /** The guest's clock minus the host's at the middle of the round trip, in ms. */
  offsetMs: number;
  roundTripMs: number;
}

/** The guest's clock against the host's, NTP-style, through guest-get-time (no process in the guest). */
export async function qgaClockOffset(client: QgaClient, timeoutMs: number): Promise<ClockReading> {
  const before = hostNanoseconds();
  const guest = await client.execute("guest-get-time", undefined, { timeoutMs });
  const after = hostNanoseconds();
  if (typeof guest !== "number") throw malformed(client, "guest-get-time", guest);
  return { offsetMs: (guest - (before + after) / 2) / 1e6, roundTripMs: (after - before) / 1e6 };
}

/** The host's wall clock now, in nanoseconds since the epoch (sub-millisecond through performance.now). */
export function hostNanoseconds(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

/** The first `maxBytes` of a guest file, read by the agent itself (no process is started in the guest). */
export async function qgaReadFile(client: QgaClient, path: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const handle = await client.execute("guest-file-open", { path, mode: "r" }, { timeoutMs });
  if (typeof handle !== "number") throw malformed(client, "guest-file-open", handle);
  try {
    const read = await client.execute("guest-file-read", { handle, count: maxBytes }, { timeoutMs });
    if (!isRecord(read) || typeof read["buf-b64"] !== "string") throw malformed(client, "guest-file-read", read);
    return Buffer.from(read["buf-b64"], "base64");
  } finally {
    await client.execute("guest-file-close", { handle }, { timeoutMs }).catch(() => undefined);
  }
}

/** Powers the guest off through its own init; the agent answers nothing when it complies. */
export async function qgaShutdown(client: QgaClient, timeoutMs: number): Promise<void> {
  await client.execute("guest-shutdown", { mode: "powerdown" }, { timeoutMs, noReply: true });
}

export interface QgaExecRequest {
  path: string;
  args: string[];
  /** The command's whole environment; absent: the agent's own. */
  env?: string[];
  stdin: Buffer;
  timeoutMs: number;
}

/**
 * Runs a program with guest-exec (output captured, stdin given whole) and polls guest-exec-status
 * until it exited. A signal death is reported as 128 + the signal, as a shell would. The agent keeps
 * at most 16 MiB of each output (qemu-ga's limit); more is cut and said so on stderr.
 */
export async function qgaExec(client: QgaClient, request: QgaExecRequest): Promise<ExecResult> {
  const deadline = Date.now() + request.timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const started = await client.execute(
    "guest-exec",
    {
      path: request.path,
      arg: request.args,
      ...(request.env === undefined ? {} : { env: request.env }),
      "capture-output": true,
      ...(request.stdin.length === 0 ? {} : { "input-data": request.stdin.toString("base64") }),
    },
    { timeoutMs: left() },
  );
  if (!isRecord(started) || typeof started["pid"] !== "number") throw malformed(client, "guest-exec", started);
  const pid = started["pid"];
  const startedAt = Date.now();
  trace("exec: started", { pid });
  let pollMs = STATUS_POLL_FIRST_MS;
  for (;;) {
    const status = await client.execute("guest-exec-status", { pid }, { timeoutMs: left() });
    if (!isRecord(status) || typeof status["exited"] !== "boolean") throw malformed(client, "guest-exec-status", status);
    trace("exec: status", { exited: String(status["exited"]) });
    if (status["exited"]) return execResult(status);
    if (Date.now() + pollMs >= deadline)
      throw new SnapvmError(ErrorCode.GuestTimeout, `${client.label}: the command (pid ${pid} in the guest) did not finish within ${request.timeoutMs} ms`, {
        details: { guestPid: pid },
      });
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    pollMs = Math.min(Date.now() - startedAt < YOUNG_COMMAND_MS ? STATUS_POLL_SHORT_MS : STATUS_POLL_LONG_MS, pollMs * 2);
  }
}

function execResult(status: Record<string, unknown>): ExecResult {
  const decode = (field: unknown): Buffer => (typeof field === "string" ? Buffer.from(field, "base64") : Buffer.alloc(0));
  const exitCode = typeof status["exitcode"] === "number" ? status["exitcode"] : typeof status["signal"] === "number" ? 128 + status["signal"] : 255;
  const truncated = status["out-truncated"] === true || status["err-truncated"] === true;
  const stderr = decode(status["err-data"]);
  return {
    exitCode,
    stdout: decode(status["out-data"]),
    stderr: truncated ? Buffer.concat([stderr, Buffer.from("\n[snapvm: qemu-guest-agent cut the command's output at its 16 MiB limit]\n")]) : stderr,
  };
}
