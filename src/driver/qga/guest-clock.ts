import { isSnapvmError } from "../../errors/index.ts";
import { trace } from "../../util/trace.ts";
import type { QgaClient } from "./client.ts";
import { qgaClockOffset, qgaExec, qgaSetTimeToHost, type ClockReading } from "./commands.ts";

/**
 * A reading certainly further off than this (beyond half its round trip) is corrected. Not lower:
 * under host load a shift often lands 10–30 ms behind, and each further shift is a process in the
 * guest (0.1–1 s under TCG and load) for a clock that must only be within 50 ms.
 */
const CLOCK_TOLERANCE_MS = 20;
/**
 * Shifts per call. A shift lands behind by the time between `date` reading the clock and setting it:
 * under a millisecond when the guest's vCPU runs, tens of ms when the host preempts it in between
 * (28–57 ms seen at a host load of 10 on 2 cores); each further shift corrects what the last lost.
 */
const MAX_SHIFTS = 3;
/** Still certainly further off than this after the shifts: guest-set-time, slow but exact. */
const SHIFT_GIVE_UP_MS = 40;
/** guest-set-time per call: a second one when a just-restored guest acted on the first late (53 ms seen). */
const MAX_SETS = 2;

/** What a guest's clock was set with; undefined until tried. Kept per connection. */
export interface ClockRoute {
  /** Whether the guest's `date` takes a relative, fractional `-s` (GNU coreutils; busybox does not). */
  shiftWorks?: boolean;
}

/**
 * Sets the guest's clock to the host's and resolves with the last reading (within CLOCK_TOLERANCE_MS
 * unless the guest would not follow). The offset is read with guest-get-time (answered by the agent
 * itself, no process), then corrected by a *relative* step: `date -u -s "+N.NNNNNNNNN seconds"`
 * through guest-exec, which reads the guest's clock and sets it a moment apart, so however late the
 * process starts, it shifts the clock by the measured offset (it loses only that moment; see
 * MAX_SHIFTS). qemu-guest-agent's own guest-set-time is the fallback (a guest without GNU date, or
 * shifts that do not converge): it answers only after running `hwclock -w`, which waits for the RTC's
 * second boundary (0.5–1 s, 2–5 s seen under TCG at a host load of 10), and the agent serves nothing
 * else meanwhile. The RTC needs no setting: QEMU's RTC follows the host's clock (after a restore
 * with a 5 s gap, `hwclock -r` in the guest read the host's time, not the saved one).
 */
export async function setClockToHost(client: QgaClient, timeoutMs: number, route: ClockRoute): Promise<ClockReading> {
  const read = async (): Promise<ClockReading> => {
    const reading = await qgaClockOffset(client, timeoutMs);
    trace("clock: read", { offsetMs: reading.offsetMs, roundTripMs: reading.roundTripMs });
    return reading;
  };
  const beyond = (reading: ClockReading, ms: number): boolean => Math.abs(reading.offsetMs) - reading.roundTripMs / 2 > ms;
  let reading = await read();
  let shifts = 0;
  let sets = 0;
  while (beyond(reading, CLOCK_TOLERANCE_MS)) {
    if (route.shiftWorks !== false && shifts < MAX_SHIFTS) {
      shifts++;
      route.shiftWorks = await shiftClock(client, -reading.offsetMs, timeoutMs);
      trace("clock: shifted", { ok: String(route.shiftWorks) });
      if (!route.shiftWorks) continue;
    } else if (sets < MAX_SETS && (route.shiftWorks === false || beyond(reading, SHIFT_GIVE_UP_MS))) {
      sets++;
      await qgaSetTimeToHost(client, timeoutMs, reading.roundTripMs / 2);
      trace("clock: set with guest-set-time");
    } else break;
    reading = await read();
  }
  return reading;
}

/** `date -s` by `deltaMs`, relative; false when the guest's date (or guest-exec) would not. */
async function shiftClock(client: QgaClient, deltaMs: number, timeoutMs: number): Promise<boolean> {
  try {
    const result = await qgaExec(client, { path: "date", args: ["-u", "-s", shiftArgument(deltaMs)], stdin: Buffer.alloc(0), timeoutMs });
    return result.exitCode === 0;
  } catch (error) {
    if (isSnapvmError(error) && error.details["refusedCommand"] === "guest-exec") return false;
    throw error;
  }
}

/** GNU date's relative item, signed, to the nanosecond: "+61.012345678 seconds". */
export function shiftArgument(deltaMs: number): string {
  return `${deltaMs < 0 ? "-" : "+"}${(Math.abs(deltaMs) / 1000).toFixed(9)} seconds`;
}
