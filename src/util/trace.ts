/**
 * Phase timestamps for finding where time goes (SNAPVM_TRACE=1): one line per phase on stderr,
 * which for the agent is its agent.log. Off by default and free then (one env lookup at load).
 */
const enabled = process.env["SNAPVM_TRACE"] === "1";

export function trace(phase: string, detail?: Record<string, number | string>): void {
  if (!enabled) return;
  process.stderr.write(`${JSON.stringify({ trace: phase, at: new Date().toISOString(), ms: Math.round(performance.now()), ...detail })}\n`);
}
