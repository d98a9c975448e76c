import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { readSecretLine } from "./passphrase-prompt.ts";

test("a secret line: typed without echo, backspace deletes, Enter ends; Ctrl-C refuses", async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const shown: string[] = [];
  output.on("data", (d: Buffer) => shown.push(d.toString()));
  const line = readSecretLine(input, output, "passphrase: ");
  input.write("corr");
  input.write("ecx\u007f horse\r");
  assert.equal(await line, "correc horse");
  assert.equal(shown.join(""), "passphrase: \n", "nothing typed is echoed");
  const refused = readSecretLine(input, output, "again: ");
  input.write("ab\u0003");
  await assert.rejects(refused, { code: "E_INTERRUPTED" });
});
