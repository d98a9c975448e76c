/**
 * The line protocol spoken with snapvm-guest-agent (guest/snapvm-guest-agent) over the virtio-serial
 * port org.snapvm.agent. One request per line; replies carry the request's id.
 *   EXEC <id> <base64 command for sh -c> <base64 stdin | ->   →  RESULT <id> <exit code> <base64 stdout | -> <base64 stderr | ->
 *   TIME <id> <seconds since the epoch>                       →  RESULT <id> <exit code of date -s> - -   (version ≥ 2)
 *   PING <id>                                                 →  PONG <id> <protocol version>
 *   anything else                                             →  ERROR <id> <reason>
 */

/** The first version that has TIME; an older agent (an image built before) sets the clock through EXEC. */
export const TIME_VERB_SINCE = 2;

export type GuestReply =
  | { kind: "result"; id: number; exitCode: number; stdout: Buffer; stderr: Buffer }
  | { kind: "pong"; id: number; version: number }
  | { kind: "error"; id: number; reason: string };

function encodeField(data: Buffer): string {
  return data.length === 0 ? "-" : data.toString("base64");
}

function decodeField(field: string | undefined): Buffer {
  return field === undefined || field === "-" || field === "" ? Buffer.alloc(0) : Buffer.from(field, "base64");
}

export function encodeExec(id: number, command: string, stdin: Buffer): string {
  return `EXEC ${id} ${encodeField(Buffer.from(command))} ${encodeField(stdin)}\n`;
}

export function encodeTime(id: number, epochSeconds: number): string {
  return `TIME ${id} ${Math.trunc(epochSeconds)}\n`;
}

export function encodePing(id: number): string {
  return `PING ${id}\n`;
}

/** Returns undefined for lines that are not replies (noise is ignored, never fatal). */
export function parseReply(line: string): GuestReply | undefined {
  const [verb, idText, a, b, c] = line.trim().split(" ");
  const id = Number(idText);
  if (!Number.isSafeInteger(id)) return undefined;
  switch (verb) {
    case "RESULT": {
      const exitCode = Number(a);
      if (!Number.isInteger(exitCode)) return undefined;
      return { kind: "result", id, exitCode, stdout: decodeField(b), stderr: decodeField(c) };
    }
    case "PONG":
      return { kind: "pong", id, version: Number(a) };
    case "ERROR":
      return { kind: "error", id, reason: a ?? "unknown" };
    default:
      return undefined;
  }
}
