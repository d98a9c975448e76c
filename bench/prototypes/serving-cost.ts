// Measures what serving forks costs in Node processes, for docs/design/fork-supervisor.md:
//   node bench/prototypes/serving-cost.ts   (after `npm run build`; needs esbuild from devDependencies)
// Each layout starts its processes at once and waits until every one printed "ready"; then it reads
// each process's CPU (utime+stime, /proc/PID/stat) and memory (Rss/Pss, smaps_rollup) and kills them.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const TICKS_PER_S = 100;
const dir = mkdtempSync(join(tmpdir(), "snapvm-proto-"));
const bundle = join(dir, "serve-group.mjs");
await build({
  entryPoints: [join(import.meta.dirname, "serve-group.ts")],
  outfile: bundle,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: { js: "import { createRequire as snapvmCreateRequire } from 'node:module'; const require = snapvmCreateRequire(import.meta.url);" },
  external: ["zstd-napi", "@aws-sdk/*"],
  logLevel: "warning",
});

interface Layout {
  label: string;
  processes: number;
  argv: (index: number) => string[];
  instances: number;
}

const IDLE = "process.stdout.write('ready\\n'); setInterval(() => undefined, 2 ** 30);";
const layouts: Layout[] = [
  { label: "bare node ×16 (the floor of any one-process-per-fork design)", processes: 16, instances: 16, argv: () => ["-e", IDLE] },
  { label: "agent-like process per instance ×16", processes: 16, instances: 16, argv: (i) => [bundle, join(dir, "home"), "1", `a${i}-`] },
  { label: "one process serving 16 instances", processes: 1, instances: 16, argv: () => [bundle, join(dir, "home"), "16", "g16-"] },
  { label: "one process serving 64 instances", processes: 1, instances: 64, argv: () => [bundle, join(dir, "home"), "64", "g64-"] },
  { label: "one process serving 1 instance", processes: 1, instances: 1, argv: () => [bundle, join(dir, "home"), "1", "g1-"] },
];

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

function memoryKiB(pid: number): { rss: number; pss: number; private: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return { rss: field("Rss"), pss: field("Pss"), private: field("Private_Clean") + field("Private_Dirty") };
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      if (d.includes("ready")) resolve();
    });
    child.once("exit", (code) => {
      reject(new Error(`exited ${code ?? "?"} before ready`));
    });
  });
}

try {
  for (const layout of layouts) {
    const started = performance.now();
    const children = Array.from({ length: layout.processes }, (_, i) => spawn(process.execPath, layout.argv(i), { stdio: ["ignore", "pipe", "inherit"] }));
    try {
      await Promise.all(children.map(ready));
      const wallMs = performance.now() - started;
      const pids = children.map((c) => c.pid ?? 0);
      const cpu = pids.map(cpuMs).reduce((a, b) => a + b, 0);
      const mem = pids
        .map(memoryKiB)
        .reduce((a, m) => ({ rss: a.rss + m.rss, pss: a.pss + m.pss, private: a.private + m.private }), { rss: 0, pss: 0, private: 0 });
      const per = (kib: number): string => `${(kib / 1024 / layout.instances).toFixed(1)} MiB`;
      console.log(
        `${layout.label}: all ready ${(wallMs / 1000).toFixed(2)} s, CPU ${(cpu / 1000).toFixed(2)} s total (${(cpu / layout.instances).toFixed(0)} ms per instance); per instance RSS ${per(mem.rss)}, PSS ${per(mem.pss)}, private ${per(mem.private)}`,
      );
    } finally {
      for (const child of children) child.kill("SIGKILL");
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
