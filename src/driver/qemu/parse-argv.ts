import type { BootSource, LaunchSpec, PortForward } from "../../config/launch-spec.ts";
import { buildQemuArgv, MEMORY_BACKEND_ID } from "./argv.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import type { SourceLaunch } from "../driver.ts";

const NOT_SNAPVM_HINT =
  "import-state accepts only QEMU arguments snapvm itself generates: the argv of an instance's boot/launch.json " +
  '(e.g. a QEMU started from it for the `migrate "exec:gzip -c > STATE.gz"` recipe). A state loads only into the ' +
  "exact device and memory layout it was saved from, and snapvm can recreate only its own.";

function notSnapvm(why: string): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidArgument, `the QEMU arguments are not ones snapvm generates: ${why}`, { hint: NOT_SNAPVM_HINT });
}

/** Options that take no value in the argv snapvm writes (plus -S, which a converter adds). */
const NO_VALUE = new Set(["-nodefaults", "-no-user-config", "-no-reboot", "-S"]);

/**
 * Drops what varies between runs of the same VM and does not change its layout: a leading binary
 * name, `-incoming …` (the gist restores with `-incoming "exec:gzip -c -d STATE.gz"`) and `-S`.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  const start = argv[0] !== undefined && !argv[0].startsWith("-") ? 1 : 0;
  for (let i = start; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-S") continue;
    if (arg === "-incoming") {
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** QEMU's option syntax: parts separated by ",", a literal comma written ",,". */
export function splitOptionValue(value: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? "";
    if (ch === "," && value[i + 1] === ",") {
      current += ",";
      i++;
    } else if (ch === ",") {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

interface OptionValue {
  /** The first part when it has no "=" (a driver or backend type), else "". */
  head: string;
  props: Map<string, string>;
  /** Repeated keys (hostfwd) in order. */
  all: [string, string][];
}

function parseOptionValue(value: string): OptionValue {
  const parts = splitOptionValue(value);
  const first = parts[0] ?? "";
  const head = first.includes("=") ? "" : first;
  const all: [string, string][] = [];
  for (const part of head === "" ? parts : parts.slice(1)) {
    const eq = part.indexOf("=");
    all.push(eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return { head, props: new Map(all), all };
}

/** The argv as (option, value) pairs, in order. */
function optionPairs(argv: readonly string[]): [string, string | undefined][] {
  const pairs: [string, string | undefined][] = [];
  for (let i = 0; i < argv.length; i++) {
    const option = argv[i] ?? "";
    if (!option.startsWith("-")) throw notSnapvm(`argument ${i + 1} (${JSON.stringify(option)}) is not an option`);
    if (NO_VALUE.has(option)) {
      pairs.push([option, undefined]);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) throw notSnapvm(`${option} has no value`);
    pairs.push([option, value]);
    i++;
  }
  return pairs;
}

class Options {
  constructor(private readonly pairs: [string, string | undefined][]) {}

  values(option: string): string[] {
    return this.pairs.filter(([o]) => o === option).map(([, v]) => v ?? "");
  }

  one(option: string): string {
    const found = this.values(option);
    if (found.length !== 1) throw notSnapvm(found.length === 0 ? `${option} is missing` : `${option} is given ${found.length} times`);
    return found[0] ?? "";
  }

  optional(option: string): string | undefined {
    return this.values(option).length === 0 ? undefined : this.one(option);
  }

  /** The value of `option` whose parsed form has head `head` (and id `id`, when given). */
  find(option: string, head: string, id?: string): OptionValue | undefined {
    return this.values(option)
      .map(parseOptionValue)
      .find((v) => v.head === head && (id === undefined || v.props.get("id") === id));
  }

  need(option: string, head: string, what: string, id?: string): OptionValue {
    const found = this.find(option, head, id);
    if (found === undefined) throw notSnapvm(`${what} (${option} ${head}${id === undefined ? "" : `,id=${id}`}) is missing`);
    return found;
  }
}

function prop(value: OptionValue, key: string, what: string): string {
  const found = value.props.get(key);
  if (found === undefined) throw notSnapvm(`${what} has no ${key}=`);
  return found;
}

function parseForward(rule: string): PortForward {
  const match = /^(tcp|udp):([^:]*):(\d+)-:(\d+)$/.exec(rule);
  if (match === null) throw notSnapvm(`hostfwd=${rule} is not in snapvm's form PROTO:ADDR:HOST-:GUEST`);
  return { protocol: match[1] === "udp" ? "udp" : "tcp", hostAddress: match[2] ?? "", host: Number(match[3]), guest: Number(match[4]) };
}

function parseMachine(options: Options): void {
  const machine = parseOptionValue(options.one("-machine"));
  if (machine.head !== "q35") throw notSnapvm(`the machine is ${JSON.stringify(machine.head || options.one("-machine"))}; snapvm runs q35`);
  const backend = machine.props.get("memory-backend");
  if (backend !== MEMORY_BACKEND_ID) {
    throw notSnapvm(
      backend === undefined
        ? `guest RAM is not a memory backend (-machine …,memory-backend=${MEMORY_BACKEND_ID}); with plain -m its RAM block is "pc.ram", snapvm's is "${MEMORY_BACKEND_ID}"`
        : `guest RAM is the memory backend "${backend}"; snapvm's RAM block is named "${MEMORY_BACKEND_ID}"`,
    );
  }
}

function parseMemory(options: Options): { memoryBytes: number; memoryBacking: LaunchSpec["memoryBacking"]; memoryPath: string; shareMemory: boolean } {
  const m = /^(\d+)M$/.exec(options.one("-m"));
  if (m === null) throw notSnapvm(`-m ${options.one("-m")} is not in MiB as snapvm writes it (e.g. 512M)`);
  const memoryBytes = Number(m[1]) * 1024 * 1024;
  const file = options.find("-object", "memory-backend-file", MEMORY_BACKEND_ID);
  if (file !== undefined) {
    return { memoryBytes, memoryBacking: "file", memoryPath: prop(file, "mem-path", "the memory backend"), shareMemory: file.props.get("share") !== "off" };
  }
  options.need("-object", "memory-backend-ram", "the guest RAM backend", MEMORY_BACKEND_ID);
  return { memoryBytes, memoryBacking: "anonymous", memoryPath: "", shareMemory: true };
}

function parseBoot(options: Options): BootSource {
  const kernel = options.optional("-kernel");
  if (kernel === undefined) return { kind: "disk" };
  return { kind: "kernel", kernel, initrd: options.one("-initrd"), cmdline: options.one("-append") };
}

/**
 * Reads a snapvm-generated argv back into the LaunchSpec that generates it, then regenerates the
 * argv and requires it to be identical. The comparison is the contract: whatever this parser
 * overlooks, an argv it accepts has exactly the device and memory layout snapvm builds, so the
 * stream saved from it loads into the new instance's QEMU.
 */
export function parseSnapvmArgv(input: readonly string[]): SourceLaunch {
  const argv = normalizeArgv(input);
  const options = new Options(optionPairs(argv));
  const nameMatch = /^snapvm-(.+)$/.exec(options.one("-name"));
  if (nameMatch === null) throw notSnapvm(`-name ${options.one("-name")} does not start with "snapvm-"`);
  parseMachine(options);
  const accel = options.one("-accel");
  if (accel !== "tcg" && accel !== "kvm") throw notSnapvm(`-accel ${accel} is neither tcg nor kvm`);
  const cpus = Number(options.one("-smp"));
  if (!Number.isSafeInteger(cpus) || cpus < 1) throw notSnapvm(`-smp ${options.one("-smp")} is not a CPU count`);
  const { shareMemory, ...memory } = parseMemory(options);
  const consoleDev = options.need("-chardev", "socket", "the console", "console");
  const guestDev = options.need("-chardev", "socket", "the guest agent channel", "guest");
  // Absent from launches pinned before snapvm gave every instance qemu-guest-agent's channel.
  const qgaDev = options.find("-chardev", "socket", "qga");
  const netdev = options.need("-netdev", "user", "the network");
  const diskFile = options
    .values("-blockdev")
    .map(parseOptionValue)
    .find((b) => b.props.get("driver") === "file");
  if (diskFile === undefined) throw notSnapvm("the disk (-blockdev driver=file,…) is missing");
  const cidata = options
    .values("-drive")
    .map(parseOptionValue)
    .find((d) => d.props.get("id") === "cidata");
  const spec: LaunchSpec = {
    name: nameMatch[1] ?? "",
    accel,
    cpus,
    ...memory,
    boot: parseBoot(options),
    disk: prop(diskFile, "filename", "the disk"),
    ...(cidata === undefined ? {} : { cidataIso: prop(cidata, "file", "the cloud-init drive") }),
    ports: netdev.all.filter(([key]) => key === "hostfwd").map(([, rule]) => parseForward(rule)),
    guestAccess: { kind: "agent" },
    mac: prop(options.need("-device", "virtio-net-pci", "the NIC"), "mac", "the NIC"),
    vmgenid: prop(options.need("-device", "vmgenid", "the VM generation ID device"), "guid", "the vmgenid device"),
    qmpSocket: (splitOptionValue(options.one("-qmp"))[0] ?? "").replace(/^unix:/, ""),
    guestSocket: prop(guestDev, "path", "the guest channel"),
    ...(qgaDev === undefined ? {} : { qgaSocket: prop(qgaDev, "path", "the qemu-guest-agent channel") }),
    consoleSocket: prop(consoleDev, "path", "the console"),
    consoleLog: prop(consoleDev, "logfile", "the console"),
  };
  const regenerated = buildQemuArgv(spec, { shareMemory });
  const differs = firstDifference(regenerated, argv);
  if (differs !== undefined) throw notSnapvm(differs);
  return { spec, shareMemory, argv };
}

function firstDifference(expected: readonly string[], actual: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (expected[i] !== actual[i]) {
      const show = (v: string | undefined): string => (v === undefined ? "nothing more" : JSON.stringify(v));
      return `at argument ${i + 1}, snapvm would write ${show(expected[i])} where these arguments have ${show(actual[i])}`;
    }
  }
  return undefined;
}
