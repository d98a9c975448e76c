import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineDecoder } from "./framing.ts";

function feed(decoder: LineDecoder, chunks: (string | Buffer)[]): string[] {
  return chunks.flatMap((chunk) => decoder.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
}

void describe("LineDecoder", () => {
  void it("joins a line split across chunks", () => {
    const decoder = new LineDecoder();
    assert.deepEqual(feed(decoder, ['{"ret', 'urn": ', "{}}\r", "\n"]), ['{"return": {}}']);
  });

  void it("splits coalesced lines and keeps the tail for the next chunk", () => {
    const decoder = new LineDecoder();
    assert.deepEqual(feed(decoder, ['{"a": 1}\r\n{"b": 2}\n{"c"']), ['{"a": 1}', '{"b": 2}']);
    assert.deepEqual(feed(decoder, [": 3}\r\n"]), ['{"c": 3}']);
  });

  void it("keeps a UTF-8 character split between chunks intact", () => {
    const bytes = Buffer.from('{"desc": "naïve ✓"}\n');
    const decoder = new LineDecoder();
    const lines = [...bytes].flatMap((byte) => decoder.push(Buffer.from([byte])));
    assert.deepEqual(lines, ['{"desc": "naïve ✓"}']);
  });

  void it("skips empty and blank lines", () => {
    assert.deepEqual(feed(new LineDecoder(), ["\r\n\n  \n{}\n"]), ["{}"]);
  });

  void it("returns an unterminated last line at end()", () => {
    const decoder = new LineDecoder();
    assert.deepEqual(feed(decoder, ['{"return": {}}']), []);
    assert.deepEqual(decoder.end(), ['{"return": {}}']);
    assert.deepEqual(decoder.end(), []);
  });

  void it("drops an over-long line, reports it, and resumes at the next newline", () => {
    const problems: string[] = [];
    const decoder = new LineDecoder({ maxLineLength: 8, onProblem: (problem, preview) => problems.push(`${problem}:${preview}`) });
    assert.deepEqual(feed(decoder, ["0123456789", "abc\n{}\n"]), ["{}"]);
    assert.deepEqual(feed(decoder, ["0123456789abc\nok\n"]), ["ok"]);
    assert.deepEqual(problems, ["line-too-long:0123456789", "line-too-long:0123456789abc"]);
  });
});
