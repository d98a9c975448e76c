import type { LogKind } from "./logs.ts";

/**
 * One record of `snapvm logs --json` (JSON lines): a console or agent log line without its newline,
 * tagged with the log's kind; for `--events`, the event object itself. An events line that is not
 * JSON (a write torn by a crash) comes as `{kind: "events", line}` rather than being dropped.
 */
export type LogRecord = { kind: LogKind; line: string } | Record<string, unknown>;

/**
 * Splits a log's chunks into records. A chunk may end mid-line: the tail waits for the next chunk,
 * and a last line without a newline is yielded when the input ends (so with --follow a partial line
 * appears once it is completed). Splitting on bytes, not decoded chunks, keeps a UTF-8 character
 * that straddles two chunks whole.
 */
export async function* logRecords(kind: LogKind, chunks: AsyncIterable<Buffer>): AsyncGenerator<LogRecord> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let newline = pending.indexOf(0x0a);
    while (newline !== -1) {
      yield toRecord(kind, pending.subarray(0, newline).toString("utf8"));
      pending = pending.subarray(newline + 1);
      newline = pending.indexOf(0x0a);
    }
  }
  if (pending.length > 0) yield toRecord(kind, pending.toString("utf8"));
}

function toRecord(kind: LogKind, text: string): LogRecord {
  const line = text.endsWith("\r") ? text.slice(0, -1) : text;
  if (kind !== "events") return { kind, line };
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  return { kind, line };
}
