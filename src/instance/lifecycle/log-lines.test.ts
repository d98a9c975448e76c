import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logRecords, type LogRecord } from "./log-lines.ts";

async function collect(kind: "console" | "events", parts: string[] | Buffer[]): Promise<LogRecord[]> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const p of parts) {
      await Promise.resolve(); // each chunk arrives on its own turn, as from a stream
      yield typeof p === "string" ? Buffer.from(p) : p;
    }
  }
  const out: LogRecord[] = [];
  for await (const r of logRecords(kind, chunks())) out.push(r);
  return out;
}

describe("logRecords", () => {
  it("splits chunks into lines, joining a line split across chunks and keeping a last line without newline", async () => {
    assert.deepEqual(await collect("console", ["boot", "ing\r\nlogin: \n", "tail"]), [
      { kind: "console", line: "booting" },
      { kind: "console", line: "login: " },
      { kind: "console", line: "tail" },
    ]);
  });

  it("keeps a UTF-8 character split between chunks whole", async () => {
    const bytes = Buffer.from("é\n");
    assert.deepEqual(await collect("console", [bytes.subarray(0, 1), bytes.subarray(1)]), [{ kind: "console", line: "é" }]);
  });

  it("yields events as themselves, and a torn events line as a tagged line", async () => {
    assert.deepEqual(await collect("events", ['{"event":"ready","ms":3}\n{"event":"sa']), [
      { event: "ready", ms: 3 },
      { kind: "events", line: '{"event":"sa' },
    ]);
  });
});
