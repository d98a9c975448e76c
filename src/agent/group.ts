import { runAgent } from "./run.ts";
import { reportersFor } from "./report.ts";

/** Listeners each served instance adds to the process (agent/signals.ts: SIGINT, SIGTERM, SIGHUP). */
const SIGNAL_LISTENERS_PER_INSTANCE = 3;

/**
 * The agent process (`snapvm agent NAME...`): serves each named instance (agent/run.ts) side by side,
 * as independent as separate agents but for the process they share. One process for a fork group
 * costs ~25 MiB and ~0.11 s of CPU once, plus ~0.5 MiB per instance, where one agent per fork costs
 * the whole again for each (docs/design/fork-supervisor.md). A signal reaches every instance, and each
 * stops as its own saveOnStop says. If this process dies, the guests run on and each instance's next
 * start re-adopts its QEMU (agent/adopt.ts). Exits once every instance has ended: 0 when all ended well.
 */
export async function runAgents(names: readonly string[]): Promise<number> {
  process.setMaxListeners(Math.max(process.getMaxListeners(), names.length * SIGNAL_LISTENERS_PER_INSTANCE + 10));
  const reporters = reportersFor(names);
  const codes = await Promise.all(
    names.map((name, i) => {
      const reporter = reporters[i];
      if (reporter === undefined) throw new Error("one reporter per instance");
      return runAgent(name, reporter);
    }),
  );
  return codes.every((code) => code === 0) ? 0 : 1;
}
