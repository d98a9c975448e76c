/**
 * The cloud guest's figures alone, without the rest of `npm run bench`: the same measurement as
 * `npm run bench -- --methods cloud-guest` (bench/methods/cloud-guest.ts), printed as its table.
 * Run: npm run build && node --import tsx bench/cloud-guest.ts
 *   RUNS=n (5), GAP_S=s (20, between stop and start), SSH=0 to skip the SSH baseline.
 */
import { loadavg } from "node:os";
import { BenchHome } from "./home.ts";
import { runCloudGuest } from "./methods/cloud-guest.ts";
import { renderCloudGuest } from "./report/cloud-table.ts";

const runs = Number(process.env["RUNS"] ?? "5");
const gapMs = Number(process.env["GAP_S"] ?? "20") * 1000;
const home = new BenchHome();
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
try {
  const records = await runCloudGuest({ home, runs, gapMs, ssh: process.env["SSH"] !== "0", log });
  process.stdout.write(
    `${renderCloudGuest(records, gapMs)}\n\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
  );
} finally {
  await home.cleanup();
}
