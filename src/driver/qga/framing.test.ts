import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { QgaFraming, type QgaLine } from "./framing.ts";

function lines(chunks: Buffer[]): QgaLine[] {
  const out: QgaLine[] = [];
  const framing = new QgaFraming((line) => out.push(line));
  for (const chunk of chunks) framing.push(chunk);
  return out;
}

describe("QgaFraming", () => {
  it("splits lines across chunks, multi-byte characters included", () => {
    const text = Buffer.from('{"return": "héllo"}\n{"return": {}}\n');
    const split = [text.subarray(0, 15), text.subarray(15, 16), text.subarray(16)];
    assert.deepEqual(lines(split), [
      { text: '{"return": "héllo"}', delimited: false },
      { text: '{"return": {}}', delimited: false },
    ]);
  });

  it("drops what precedes a 0xFF and marks the line after it as a sync reply", () => {
    const stale = Buffer.from('{"return": {"pid": 4');
    const sync = Buffer.concat([Buffer.from([0xff]), Buffer.from('{"return": 77}\n{"return": {}}\n')]);
    assert.deepEqual(lines([stale, sync]), [
      { text: '{"return": 77}', delimited: true },
      { text: '{"return": {}}', delimited: false },
    ]);
  });
});
