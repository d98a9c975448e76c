/** QMP wire messages (QEMU docs/interop/qmp-spec.rst) and their classification. */

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  /** Distribution package string, e.g. "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"; may be "". */
  package: string;
}

export interface QmpGreeting {
  version: QemuVersion;
  capabilities: string[];
}

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/** Any event as it came off the wire; `data` is `{}` when QEMU sent none. */
export interface QmpEventMessage {
  event: string;
  data: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

export type QmpMessage =
  | { kind: "greeting"; greeting: QmpGreeting }
  | { kind: "return"; id: unknown; value: unknown }
  | { kind: "error"; id: unknown; errorClass: string; desc: string }
  | { kind: "event"; event: QmpEventMessage };

/** Why a line was not delivered: not JSON, JSON of no known shape, a reply nobody waits for, or too long. */
export type QmpStrayReason = "invalid-json" | "unknown-shape" | "unknown-id" | "line-too-long";

/** Parses one line into a message, or says why it is not one. */
export function parseQmpLine(line: string): QmpMessage | QmpStrayReason {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    if (error instanceof SyntaxError) return "invalid-json";
    throw error;
  }
  return classify(value) ?? "unknown-shape";
}

function classify(value: unknown): QmpMessage | undefined {
  if (!isRecord(value)) return undefined;
  if ("return" in value) return { kind: "return", id: value.id, value: value.return };
  if ("error" in value) {
    const error = value.error;
    if (!isRecord(error)) return undefined;
    return { kind: "error", id: value.id, errorClass: stringOr(error.class, "GenericError"), desc: stringOr(error.desc, "") };
  }
  if (typeof value.event === "string") return { kind: "event", event: toEvent(value.event, value) };
  if (isRecord(value.QMP)) {
    const greeting = toGreeting(value.QMP);
    return greeting === undefined ? undefined : { kind: "greeting", greeting };
  }
  return undefined;
}

function toEvent(event: string, value: Record<string, unknown>): QmpEventMessage {
  const timestamp = isRecord(value.timestamp) ? value.timestamp : {};
  return {
    event,
    data: isRecord(value.data) ? value.data : {},
    timestamp: { seconds: numberOr(timestamp.seconds, 0), microseconds: numberOr(timestamp.microseconds, 0) },
  };
}

function toGreeting(qmp: Record<string, unknown>): QmpGreeting | undefined {
  const version = isRecord(qmp.version) ? qmp.version : undefined;
  const qemu = isRecord(version?.qemu) ? version.qemu : undefined;
  if (version === undefined || qemu === undefined) return undefined;
  const { major, minor, micro } = qemu;
  if (typeof major !== "number" || typeof minor !== "number" || typeof micro !== "number") return undefined;
  const capabilities = Array.isArray(qmp.capabilities) ? qmp.capabilities.filter((c) => typeof c === "string") : [];
  return { version: { major, minor, micro, package: stringOr(version.package, "") }, capabilities };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}
