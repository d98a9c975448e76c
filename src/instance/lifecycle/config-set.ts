import { readFile } from "node:fs/promises";
import { parse, parseDocument } from "yaml";
import { parseConfigText, resolveConfig } from "../../config/index.ts";
import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { instancePaths, type InstanceName } from "../../paths/index.ts";
import { inspectInstance } from "../../store/inspect.ts";
import { writeFileAtomic } from "../../util/atomic-write.ts";
import { agentClient } from "../access/agent-client.ts";
import { readPortClaims, refuseClaimedPorts } from "./port-claims.ts";

export interface ConfigSetResult {
  name: string;
  key: string;
  value: unknown;
  /** True when the running agent took the change at once (saveOnStop); else it applies at the next cold boot. */
  appliedLive: boolean;
}

/** Settings a running agent takes without a reboot, through PATCH /v1/config. */
const LIVE_KEYS = new Set(["saveOnStop"]);

/**
 * `snapvm config set NAME key=value`: edits snapvm.yaml keeping its comments, validates the result
 * (an invalid edit writes nothing), and hands live settings to the running agent.
 */
export async function setConfigValue(name: InstanceName, assignment: string, home?: string): Promise<ConfigSetResult> {
  const eq = assignment.indexOf("=");
  if (eq <= 0) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `expected key=value, got ${JSON.stringify(assignment)}`, {
      hint: "For example: snapvm config set NAME saveOnStop=false",
    });
  }
  const key = assignment.slice(0, eq).trim();
  const value: unknown = parse(assignment.slice(eq + 1));
  const current = await inspectInstance(name, home);
  const paths = instancePaths(name, home);
  const doc = parseDocument(await readFile(paths.config, "utf8"));
  doc.setIn(key.split("."), value);
  const text = doc.toString();
  const config = resolveConfig(parseConfigText(text, `${paths.config} (after setting ${key})`), { baseDir: paths.dir });
  if (key === "ports" || key.startsWith("ports."))
    refuseClaimedPorts(
      `cannot set ${key} of instance "${name}"`,
      config.ports,
      await readPortClaims(home, name),
      "Pick another host port (`snapvm info NAME` shows an instance's ports), or change or delete the instance that forwards it.",
    );
  await writeFileAtomic(paths.config, text);
  let appliedLive = false;
  if (current.agentPid !== undefined && LIVE_KEYS.has(key) && typeof value === "boolean") {
    await agentClient(name, home).patchConfig({ saveOnStop: value });
    appliedLive = true;
  }
  return { name, key, value, appliedLive };
}
