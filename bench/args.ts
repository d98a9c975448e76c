import { parseArgs } from "node:util";
import { parseSize } from "../src/config/index.ts";
import { DATA_CASES, type DataCase } from "./guest-workload.ts";
import { METHOD_IDS, OPT_IN_METHOD_IDS, SLOW_METHOD_IDS, type MethodId } from "./methods/catalog.ts";
import type { BenchOptions, GuestSize } from "./results.ts";

export const USAGE = `npm run bench -- [options]

  --quick              512M only, 1 run, random data only, no export/offload/migrate methods unless named in --methods
                       (the README's figures; under 3 minutes on 2 cores)
  --sizes LIST         guest RAM sizes, default 512M,2G (e.g. 512M,2G,8G)
  --runs N             runs per figure (median, min, max), default 3
  --cases LIST         ${DATA_CASES.join(",")} (default both, random with --quick): what half the RAM is dirtied with
  --methods LIST       default all but cloud-guest: ${METHOD_IDS.filter((m) => !OPT_IN_METHOD_IDS.includes(m)).join(",")},ram-backing
                       cloud-guest (only when named; not in --quick): a Debian cloud image (cloud-init, sshd,
                       qemu-guest-agent; built once by test/vm/cloud-image.ts: minutes, root): cold boot → exec,
                       restore → start returns, → first exec, guest clock offset; restores also through SSH
                       (SNAPVM_FORCE_SSH=1) as the baseline. --runs times each, 10 s between stop and start
  --warm               keep the host page cache before restores (default: drop it)
  --idle-cpu SECONDS   after a ×16 fork fan-out answers, the host CPU its processes use while idle over
                       SECONDS (default 0: not measured)
  --out DIR            where results go, default bench/results
  -h, --help`;

export interface CliOptions extends BenchOptions {
  /** The file-vs-anonymous RAM workload. */
  ramBacking: boolean;
  out: string | undefined;
  help: boolean;
  /** Seconds of idle CPU measured after each ×16 fan-out; 0: none. */
  idleCpuS: number;
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function pick<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  return list(text).map((item) => {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`unknown ${what} "${item}"; one of ${allowed.join(", ")}`);
    return item as T;
  });
}

export function parseOptions(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      sizes: { type: "string" },
      runs: { type: "string" },
      cases: { type: "string" },
      methods: { type: "string" },
      warm: { type: "boolean", default: false },
      "idle-cpu": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const quick = values.quick;
  const idleCpuS = Number(values["idle-cpu"] ?? "0");
  if (!Number.isFinite(idleCpuS) || idleCpuS < 0) throw new Error(`--idle-cpu must be a number of seconds, got ${values["idle-cpu"] ?? ""}`);
  const sizes: GuestSize[] = list(values.sizes ?? (quick ? "512M" : "512M,2G")).map((label) => ({ label, bytes: parseSize(label) }));
  const runs = Number(values.runs ?? (quick ? "1" : "3"));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs ?? ""}`);
  // --quick keeps one case: each case is a whole chain of methods, most of it reading back memory.
  const cases: DataCase[] = values.cases === undefined ? (quick ? ["random"] : [...DATA_CASES]) : pick(values.cases, DATA_CASES, "case");
  // --quick keeps its few minutes: the transfer and migration methods run with it only when named;
  // the opt-in ones (the cloud guest) only when named, always.
  const defaults = METHOD_IDS.filter((m) => !OPT_IN_METHOD_IDS.includes(m) && !(quick && SLOW_METHOD_IDS.includes(m)));
  const chosen = pick(values.methods ?? [...defaults, "ram-backing"].join(","), [...METHOD_IDS, "ram-backing"] as const, "method");
  return {
    quick,
    sizes,
    runs,
    cases,
    warm: values.warm,
    methods: chosen.filter((m): m is MethodId => m !== "ram-backing"),
    ramBacking: chosen.includes("ram-backing"),
    out: values.out,
    help: values.help,
    idleCpuS,
  };
}
