import { open } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../errors/index.ts";
import { MANIFEST_MAX_BYTES, STATE_FORMAT, STATE_FORMAT_VERSION, type StateManifest } from "./manifest.ts";
import { MANIFEST_NAME } from "../paths/index.ts";

function invalid(dir: string, why: string, cause?: unknown): SnapvmError {
  return new SnapvmError(ErrorCode.StateInvalid, `the saved state in ${dir} is unusable: ${why}`, {
    hint: "It cannot be restored; snapvm moves it aside and boots the VM afresh.",
    ...(cause === undefined ? {} : { cause }),
    details: { dir },
  });
}

function parseVersion(text: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Same major and a minor no newer than ours loads; anything else is refused with the reason.
 * (A newer minor may carry fields this snapvm would silently ignore.)
 */
export function checkFormatVersion(dir: string, version: string): void {
  const theirs = parseVersion(version);
  const ours = parseVersion(STATE_FORMAT_VERSION);
  if (theirs === undefined || ours === undefined) throw invalid(dir, `format version "${version}" is not semver`);
  if (theirs[0] !== ours[0] || theirs[1] > ours[1]) {
    throw new SnapvmError(
      ErrorCode.StateIncompatible,
      `the saved state in ${dir} has format ${version}; this snapvm reads ${ours[0]}.0–${ours[0]}.${ours[1]}`,
      {
        hint: "Use the snapvm version that wrote it, or restart the instance to discard the state.",
        details: { dir, formatVersion: version },
      },
    );
  }
}

function hasShape(value: unknown): value is StateManifest {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  const launch: unknown = m["launch"];
  return (
    m["format"] === STATE_FORMAT &&
    typeof m["formatVersion"] === "string" &&
    typeof m["qemuVersion"] === "string" &&
    typeof m["accel"] === "string" &&
    typeof m["createdAt"] === "string" &&
    Array.isArray(m["files"]) &&
    typeof launch === "object" &&
    launch !== null &&
    Array.isArray((launch as Record<string, unknown>)["argv"]) &&
    typeof (launch as Record<string, unknown>)["spec"] === "object"
  );
}

/** Reads and checks a state's manifest; the size cap is checked before parsing. */
export async function readManifest(dir: string): Promise<StateManifest> {
  const path = join(dir, MANIFEST_NAME);
  let text: string;
  try {
    const handle = await open(path, "r");
    try {
      const { size } = await handle.stat();
      if (size > MANIFEST_MAX_BYTES) throw invalid(dir, `${MANIFEST_NAME} is ${size} bytes, more than the ${MANIFEST_MAX_BYTES} allowed`);
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isErrno(error, "ENOENT")) throw invalid(dir, `${MANIFEST_NAME} is missing`, error);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(dir, `${MANIFEST_NAME} is not valid JSON`, error);
  }
  if (typeof parsed === "object" && parsed !== null && typeof (parsed as { formatVersion?: unknown }).formatVersion === "string") {
    checkFormatVersion(dir, (parsed as { formatVersion: string }).formatVersion);
  }
  if (!hasShape(parsed)) throw invalid(dir, `${MANIFEST_NAME} is not a snapvm state manifest`);
  return parsed;
}
