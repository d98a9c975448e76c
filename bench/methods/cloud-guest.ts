import { createServer, type Server } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureCloudImage } from "../../test/vm/cloud-image.ts";
import type { BenchHome } from "../home.ts";

/**
 * The cloud guest (issue 12): a Debian cloud image with cloud-init, sshd and qemu-guest-agent (the
 * test image, test/vm/cloud-image.ts, built once: minutes, needs root), driven through the CLI as a
 * user drives it. Per route, `runs` times:
 *   - cold boot → exec: `snapvm start` (cold; not cloud-init's first boot, which is not counted) then
 *     `snapvm exec -- true`;
 *   - restore → start returns, → first exec: `snapvm stop` (saves), a gap of `gapMs`, `snapvm start`,
 *     `snapvm exec -- true`;
 *   - the guest's clock offset: measured by the guest right after that first exec, NTP-style: the
 *     middle of the shortest of 5 round trips to a host TCP server (10.0.2.2 through user-mode
 *     networking) that answers its wall time, minus that time.
 * Routes: "qemu-guest-agent" (snapvm's choice for this guest) and "ssh", the same guest with
 * SNAPVM_FORCE_SSH=1 (readiness, exec and the clock over SSH, as before the agent's channel): restores
 * only. Its clock is set after `start` returns, so its offset at the first exec understates the one at return.
 */
export type CloudRoute = "qemu-guest-agent" | "ssh";

export interface CloudGuestRecord {
  route: CloudRoute;
  kind: "cold" | "restore";
  run: number;
  /** cold: start (cold) + first exec. */
  coldExecMs?: number;
  /** restore: until `start` returned. */
  startMs?: number;
  /** restore: until the first `exec` returned. */
  firstExecMs?: number;
  /** restore: guest clock − host clock, as the first command after the restore saw it. */
  clockOffsetMs?: number;
  error?: string;
}

export interface CloudGuestOptions {
  home: BenchHome;
  runs: number;
  gapMs: number;
  /** Also measure restores through SSH (the baseline). */
  ssh: boolean;
  log: (line: string) => void;
}

const MEMORY = "256M";
/** The guest's size in the table's title. */
export const CLOUD_GUEST_MEMORY = MEMORY;

export async function runCloudGuest(options: CloudGuestOptions): Promise<CloudGuestRecord[]> {
  const { home, log } = options;
  const image = await ensureCloudImage(log);
  const server = await clockServer();
  const records: CloudGuestRecord[] = [];
  const name = "cloud";
  const ok = async (args: string[], route: CloudRoute = "qemu-guest-agent"): Promise<string> => {
    const run = await home.cli(args, route === "ssh" ? { SNAPVM_FORCE_SSH: "1" } : {});
    if (run.code !== 0) throw new Error(`snapvm ${args.join(" ")} exited ${run.code}: ${run.stderr.trim().split("\n").at(-1) ?? ""}`);
    return run.stdout;
  };
  const measured = async (record: CloudGuestRecord, measure: () => Promise<string>): Promise<void> => {
    try {
      log(`cloud guest (${record.route}) ${record.kind} ${record.run}: ${await measure()}`);
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
      log(`cloud guest (${record.route}) ${record.kind} ${record.run} failed: ${record.error}`);
    }
    records.push(record);
  };
  try {
    const config = join(home.dir, `${name}.yaml`);
    writeFileSync(config, `image: ${image}\nmemory: { size: ${MEMORY} }\ndisk: { size: 4G }\n`);
    await ok(["create", name, "--from-file", config]);
    log("cloud guest: first boot (cloud-init's; not counted)");
    await ok(["start", name]);
    await ok(["exec", name, "--", "true"]);
    for (let run = 1; run <= options.runs; run++) {
      await ok(["config", "set", name, "saveOnStop=false"]);
      await ok(["stop", name]);
      await ok(["config", "set", name, "saveOnStop=true"]);
      const record: CloudGuestRecord = { route: "qemu-guest-agent", kind: "cold", run };
      await measured(record, async () => {
        const started = performance.now();
        await ok(["start", name]);
        await ok(["exec", name, "--", "true"]);
        record.coldExecMs = performance.now() - started;
        return `cold boot → exec ${record.coldExecMs.toFixed(0)} ms`;
      });
    }
    // The same guest, saved and restored through each route in turn: `start` with the route's
    // environment spawns the agent that serves it until the next stop.
    for (const route of options.ssh ? (["qemu-guest-agent", "ssh"] as const) : (["qemu-guest-agent"] as const)) {
      for (let run = 1; run <= options.runs; run++) {
        await ok(["stop", name]);
        await new Promise((resolve) => setTimeout(resolve, options.gapMs));
        const record: CloudGuestRecord = { route, kind: "restore", run };
        await measured(record, async () => {
          const started = performance.now();
          await ok(["start", name], route);
          record.startMs = performance.now() - started;
          await ok(["exec", name, "--", "true"], route);
          record.firstExecMs = performance.now() - started;
          record.clockOffsetMs = Number((await ok(["exec", name, "--", "sh", "-c", clockProbe(server.port)], route)).trim().split(" ")[0]);
          return `start returned ${record.startMs.toFixed(0)} ms, first exec ${record.firstExecMs.toFixed(0)} ms, clock offset ${record.clockOffsetMs.toFixed(1)} ms`;
        });
      }
    }
  } finally {
    server.close();
    await home.deleteInstance(name);
  }
  return records;
}

/** A host TCP server on loopback (the guest reaches it as 10.0.2.2) answering each byte with its wall time in ms. */
async function clockServer(): Promise<{ port: number; close: () => void }> {
  const server: Server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.on("data", () => socket.write(`${performance.timeOrigin + performance.now()}\n`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the clock server has no port");
  return { port: address.port, close: () => server.close() };
}

/** Prints "OFFSET_MS ROUND_TRIP_MS" for the shortest of 5 round trips to the host's clock server. */
function clockProbe(port: number): string {
  return [
    'python3 -c "import socket,time',
    `s=socket.create_connection(('10.0.2.2',${port})); f=s.makefile(); best=None`,
    "for i in range(5):",
    "  t1=time.time(); s.send(b'x'); h=float(f.readline()); t2=time.time(); r=((t1+t2)/2*1000-h, (t2-t1)*1000)",
    "  best = r if best is None or r[1] < best[1] else best",
    "print('%.1f %.1f' % best)\"",
  ].join("\n");
}
