import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { parseConfigText } from "./load.ts";
import type { ConfigProblem } from "./problems.ts";
import { resolveConfig } from "./resolve.ts";
import { serializeConfig } from "./serialize.ts";
import { seededRandom } from "../util/seeded-random.ts";

/**
 * The parser's contract under garbage: parseConfigText returns a config or throws
 * SnapvmError(InvalidConfig) with positioned problems, never any other exception. A config it
 * accepts must also resolve, and mean the same after serialize → parse. Seeded, so failures replay.
 */

/** SNAPVM_FUZZ_SCALE=20 for a longer run; the default keeps the unit tier around two seconds. */
const SCALE = Math.max(1, Number(process.env["SNAPVM_FUZZ_SCALE"] ?? "1") || 1);

const TEMPLATE = readFileSync(new URL("../../templates/default.yaml", import.meta.url), "utf8");
const TOKENS = [
  "cpus",
  "memory",
  "size",
  "backing",
  "disk",
  "image",
  "ports",
  "host",
  "guest",
  "protocol",
  "hostAddress",
  "snapshot",
  "level",
  "timeouts",
  "boot",
  "ssh",
  "user",
  "cloudInit",
  "userData",
  "saveOnStop",
  "accel",
  "tiny",
  "x.qcow2",
  "512M",
  "1G",
  "0",
  "-1",
  "65536",
  "1.5",
  ".inf",
  ".nan",
  "null",
  "~",
  "true",
  "yes",
  "127.0.0.1",
  ":",
  ": ",
  "- ",
  "-",
  "\n",
  "\n  ",
  "\n    ",
  "\t",
  " ",
  "{",
  "}",
  "[",
  "]",
  ",",
  "#",
  "&a ",
  "*a",
  "!!str ",
  "!!binary ",
  "!foo ",
  "? ",
  "|",
  ">",
  "'",
  '"',
  "\\",
  "---",
  "...",
  "%YAML 1.2\n",
  "<<: ",
  "__proto__",
  "constructor",
  "\u0000",
  "\ufeff",
  "😀",
  "\r\n",
];

function check(text: string, label: string): void {
  let file;
  try {
    file = parseConfigText(text, "fuzz.yaml");
  } catch (error) {
    if (!(error instanceof SnapvmError)) {
      assert.fail(`${label}: ${JSON.stringify(text)} threw ${String(error)}`);
    }
    assert.equal(error.code, ErrorCode.InvalidConfig, label);
    const problems = error.details["problems"] as ConfigProblem[];
    assert.ok(problems.length > 0, label);
    for (const p of problems) assert.ok(p.line !== undefined && p.line >= 1 && p.col !== undefined && p.col >= 1, `${label}: ${JSON.stringify(p)}`);
    return;
  }
  const resolved = resolveConfig(file, { baseDir: "/base" });
  // serializeConfig leaves out empty sections ("disk: {}"), so compare what the configs mean.
  assert.deepEqual(resolveConfig(parseConfigText(serializeConfig(file), "again"), { baseDir: "/base" }), resolved, label);
}

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.5) {
    const scalars = [0, 1, 64, 65, -3, 2.5, 65535, 70000, true, false, null, "", "tiny", "512M", "64MiB", "15M", "1T", "x.qcow2", "udp", "0.0.0.0", "zstd"];
    return scalars[Math.floor(next() * scalars.length)];
  }
  if (r < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const keys = [
    "cpus",
    "memory",
    "size",
    "backing",
    "disk",
    "image",
    "ports",
    "host",
    "guest",
    "protocol",
    "hostAddress",
    "level",
    "boot",
    "user",
    "userData",
    "typo",
  ];
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) out[keys[Math.floor(next() * keys.length)] ?? "k"] = randomValue(next, depth + 1);
  return out;
}

describe("config parser fuzz", () => {
  it("survives truncations of the template", () => {
    const step = Math.max(1, Math.round(4 / SCALE));
    for (let end = 0; end <= TEMPLATE.length; end += step) check(TEMPLATE.slice(0, end), `truncated at ${end}`);
  });

  it("survives random token soup", () => {
    const next = seededRandom(20261122);
    for (let i = 0; i < 1000 * SCALE; i++) {
      const parts: string[] = [];
      for (let n = Math.floor(next() * 30); n > 0; n--) parts.push(TOKENS[Math.floor(next() * TOKENS.length)] ?? "");
      check(parts.join(""), `soup ${i}`);
    }
  });

  it("survives random edits of the template", () => {
    const next = seededRandom(42);
    for (let i = 0; i < 400 * SCALE; i++) {
      let text = TEMPLATE;
      for (let n = 1 + Math.floor(next() * 4); n > 0; n--) {
        const at = Math.floor(next() * text.length);
        const token = TOKENS[Math.floor(next() * TOKENS.length)] ?? "";
        const kind = next();
        if (kind < 0.33) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 20));
        else if (kind < 0.66) text = text.slice(0, at) + token + text.slice(at);
        else text = text.slice(0, at) + String.fromCharCode(Math.floor(next() * 128)) + text.slice(at + 1);
      }
      check(text, `edit ${i}`);
    }
  });

  it("survives random YAML values with config-like keys", () => {
    const next = seededRandom(7);
    for (let i = 0; i < 600 * SCALE; i++) check(stringify(randomValue(next, 0)), `value ${i}`);
  });
});
