/**
 * Throughput of the age streams, single-threaded: `node --import tsx src/crypto/age/bench.ts [MiB]`.
 * Encrypts and decrypts MiB (default 512) of random data fed in 1 MiB writes, as a pipe would deliver
 * it, and prints MB/s (10^6 bytes per second). A benchmark, not a test.
 */
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Transform } from "node:stream";
import { createDecryptStream } from "./decrypt-stream.ts";
import { createEncryptStream } from "./encrypt-stream.ts";
import { CHUNK_SIZE } from "./constants.ts";
import { PayloadCipher } from "./payload.ts";
import { generateIdentity, parseIdentity, parseRecipient } from "./key-text.ts";

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? "512") * MiB;
const piece = randomBytes(MiB);

/** `count` writes of `piece` (the same random MiB, so generating input costs nothing). */
function source(count: number): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: 4 * MiB,
    read() {
      this.push(sent < count ? piece : null);
      sent++;
    },
  });
}

async function run(input: Readable, transform: Transform, keep: boolean): Promise<{ seconds: number; output: Buffer[] }> {
  const output: Buffer[] = [];
  let bytes = 0;
  const sink = new Writable({
    highWaterMark: 4 * MiB,
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (keep) output.push(chunk);
      callback();
    },
  });
  const start = process.hrtime.bigint();
  await pipeline(input, transform, sink);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (bytes === 0) throw new Error("no output");
  return { seconds, output };
}

/** The ceiling: node:crypto sealing 64 KiB chunks in a loop, no streams. */
function rawAeadSeconds(): number {
  const cipher = new PayloadCipher(randomBytes(16), randomBytes(16));
  const chunk = piece.subarray(0, CHUNK_SIZE);
  const start = process.hrtime.bigint();
  for (let i = 0; i < total / CHUNK_SIZE; i++) cipher.seal(chunk, false);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const keys = generateIdentity();
const recipients = [parseRecipient(keys.recipient)];
// Timed runs discard their output; the decrypt input is made by an untimed run that keeps it.
const encrypted = await run(source(total / MiB), createEncryptStream(recipients), false);
const file = Buffer.concat((await run(source(total / MiB), createEncryptStream(recipients), true)).output);
const fileSource = Readable.from(
  (function* () {
    for (let offset = 0; offset < file.length; offset += MiB) yield file.subarray(offset, offset + MiB);
  })(),
);
const decrypted = await run(fileSource, createDecryptStream([parseIdentity(keys.identity)]), false);
const mbps = (seconds: number): string => (total / seconds / 1e6).toFixed(0);
const baseline = rawAeadSeconds();
console.log(`baseline: bare ChaCha20-Poly1305 on 64 KiB chunks, same process: ${mbps(baseline)} MB/s`);
console.log(`age encrypt ${total / MiB} MiB: ${mbps(encrypted.seconds)} MB/s`);
console.log(`age decrypt ${total / MiB} MiB: ${mbps(decrypted.seconds)} MB/s`);
