import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Transform } from "node:stream";
import { createDecryptStream } from "./decrypt-stream.ts";
import { createEncryptStream } from "./encrypt-stream.ts";
import type { Identity, Recipient } from "./keys.ts";

/** Runs `input` through `transform` and collects the output. For small data (keys, manifests), not bundles. */
async function collect(input: Uint8Array, transform: Transform): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from([Buffer.from(input)]), transform, sink);
  return Buffer.concat(parts);
}

export function encryptBuffer(plaintext: Uint8Array, recipients: readonly Recipient[]): Promise<Buffer> {
  return collect(plaintext, createEncryptStream(recipients));
}

export function decryptBuffer(file: Uint8Array, identities: readonly Identity[]): Promise<Buffer> {
  return collect(file, createDecryptStream(identities));
}
