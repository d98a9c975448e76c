/**
 * The cloud guest's figures (issue 12), not yet a row of `npm run bench`: on the cloud test image
 * (test/vm/cloud-image.ts, built once), through the CLI as a user runs it, median of RUNS (5):
 *   - cold boot → exec: `snapvm start` (cold; not cloud-init's first boot) then `snapvm exec -- true`;
 *   - restore → start returns, → first exec: `snapvm stop` (saves), a gap of GAP_S (20) seconds,
 *     `snapvm start`, `snapvm exec -- true`;
 *   - the guest's clock offset after `start` returned: NTP-style from the guest, the middle of the
 *     shortest of 5 round trips to a host TCP server (10.0.2.2 through user-mode networking) that
 *     answers its own wall time, minus that time.
 * Run: npm run build && node --import tsx bench/cloud-guest.ts   (RUNS=n GAP_S=s to change)
 */
import { createServer } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureCloudImage } from "../test/vm/cloud-image.ts";
import { TestHome } from "../test/vm/harness.ts";

const RUNS = Number(process.env["RUNS"] ?? "5");
const GAP_MS = Number(process.env["GAP_S"] ?? "20") * 1000;
const NAME = "cg";

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

const image = await ensureCloudImage();
const home = new TestHome();
const server = createServer((socket) => socket.on("data", () => socket.write(`${performance.timeOrigin + performance.now()}\n`)));
await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
const address = server.address();
const port = typeof address === "object" && address !== null ? address.port : 0;
const probe = [
  'python3 -c "import socket,time',
  `s=socket.create_connection(('10.0.2.2',${port})); f=s.makefile(); best=None`,
  "for i in range(5):",
  "  t1=time.time(); s.send(b'x'); h=float(f.readline()); t2=time.time(); r=((t1+t2)/2*1000-h, (t2-t1)*1000)",
  "  best = r if best is None or r[1] < best[1] else best",
  "print('%.1f %.1f' % best)\"",
].join("\n");

try {
  const config = join(home.dir, "cloud-guest.yaml");
  writeFileSync(config, `image: ${image}\nmemory: { size: 256M }\ndisk: { size: 4G }\n`);
  await home.ok(["create", NAME, "--from-file", config]);
  const cold: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const started = performance.now();
    await home.ok(["start", NAME]);
    await home.ok(["exec", NAME, "--", "true"]);
    const ms = performance.now() - started;
    print(`cold boot ${run === 0 ? "0 (cloud-init's first boot, not counted)" : run} → exec: ${ms.toFixed(0)} ms`);
    if (run > 0) cold.push(ms);
    await home.ok(["config", "set", NAME, "saveOnStop=false"]);
    await home.ok(["stop", NAME]);
    await home.ok(["config", "set", NAME, "saveOnStop=true"]);
  }
  await home.ok(["start", NAME]);
  const returned: number[] = [];
  const firstExec: number[] = [];
  const offsets: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    await home.ok(["stop", NAME]);
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    const started = performance.now();
    await home.ok(["start", NAME]);
    const back = performance.now() - started;
    await home.ok(["exec", NAME, "--", "true"]);
    const exec = performance.now() - started;
    const [offset = Number.NaN, roundTrip = Number.NaN] = (await home.ok(["exec", NAME, "--", "sh", "-c", probe])).trim().split(" ").map(Number);
    returned.push(back);
    firstExec.push(exec);
    offsets.push(offset);
    print(`restore ${run}: start returned ${back.toFixed(0)} ms, first exec ${exec.toFixed(0)} ms, clock offset ${offset} ms (round trip ${roundTrip} ms)`);
  }
  print(
    `median of ${RUNS}: cold boot → exec ${median(cold).toFixed(0)} ms; restore → start returned ${median(returned).toFixed(0)} ms, ` +
      `→ first exec ${median(firstExec).toFixed(0)} ms; clock offset ${median(offsets).toFixed(1)} ms`,
  );
} finally {
  server.close();
  await home.cleanup();
}
