import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { isSnapvmError } from "../../errors/index.ts";
import { LineChannel } from "./line-channel.ts";

type Message = { kind: "hello"; n: number } | { kind: "failed"; error: { code: string; message: string; hint?: string } };

function pair(): { input: PassThrough; output: PassThrough; channel: LineChannel<Message, Message> } {
  const input = new PassThrough();
  const output = new PassThrough();
  return { input, output, channel: new LineChannel<Message, Message>(input, output, "the peer") };
}

test("sends and receives one JSON object per line, in order, split across chunks", async () => {
  const { input, output, channel } = pair();
  const sent: string[] = [];
  output.setEncoding("utf8").on("data", (d: string) => sent.push(d));
  channel.send({ kind: "hello", n: 1 });
  input.write('{"kind":"hello","n":2}\n{"kind":"hel');
  input.write('lo","n":3}\n\n');
  assert.deepEqual(await channel.expect("hello"), { kind: "hello", n: 2 });
  assert.deepEqual(await channel.next(), { kind: "hello", n: 3 });
  assert.deepEqual(sent, ['{"kind":"hello","n":1}\n']);
});

test("a failed report is thrown as the peer's error, with its code and hint", async () => {
  const { input, channel } = pair();
  input.write('{"kind":"failed","error":{"code":"E_MIGRATION_REFUSED","message":"no","hint":"h"}}\n');
  await assert.rejects(channel.expect("hello"), (error: unknown) => isSnapvmError(error) && error.code === "E_MIGRATION_REFUSED" && error.hint === "h");
});

test("the input ending rejects what waits and what comes later", async () => {
  const { input, channel } = pair();
  const waiting = channel.next();
  input.end();
  await assert.rejects(waiting, /the peer closed the connection/);
  await assert.rejects(channel.next(), /the peer closed the connection/);
});

test("a line that is not a message ends the channel", async () => {
  const { input, channel } = pair();
  input.write("not json\n");
  await assert.rejects(
    channel.next(),
    (error: unknown) => isSnapvmError(error) && error.code === "E_MIGRATION_FAILED" && /not a migration message/.test(error.message),
  );
  const other = pair();
  other.input.write('{"no":"kind"}\n');
  await assert.rejects(other.channel.next(), /not a message/);
});

test("heartbeats are never handed over, and keep a channel with silenceMs open", async () => {
  const input = new PassThrough();
  const channel = new LineChannel<Message, Message>(input, new PassThrough(), "the peer", { silenceMs: 300 });
  const beating = setInterval(() => input.write('{"kind":"ping"}\n'), 50);
  await new Promise((resolve) => setTimeout(resolve, 600));
  input.write('{"kind":"hello","n":7}\n');
  assert.deepEqual(await channel.next(), { kind: "hello", n: 7 });
  clearInterval(beating);
  // The watchdog is unref'd (a channel never keeps a process alive); this test's own timer does.
  const alive = setTimeout(() => undefined, 5000);
  await assert.rejects(channel.next(), /the peer fell silent for 0.3 s/);
  clearTimeout(alive);
});
