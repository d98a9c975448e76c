import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isSnapvmError } from "../../errors/index.ts";
import { seededRandom } from "../../util/seeded-random.ts";
import { decryptBuffer, encryptBuffer } from "./buffer.ts";
import { CHUNK_SIZE } from "./constants.ts";
import { generateIdentity, parseIdentity, parseRecipient } from "./key-text.ts";
import { passphraseIdentity, passphraseRecipient, type Identity } from "./keys.ts";

/** Header-ish bytes make mutations that reach deeper into the parser than random ones. */
const INTERESTING = Buffer.from("-> \n\r=+/A0189scryptX25519age-encryption.org/v1---");

/** One seeded mutation: most land in the header, where the parser is. */
function mutate(file: Buffer, headerLength: number, random: () => number): Buffer {
  const int = (n: number): number => Math.floor(random() * n);
  const at = random() < 0.7 ? int(headerLength + 20) : int(file.length);
  const bytes = Buffer.from(file);
  switch (int(7)) {
    case 0:
      bytes[at] = (bytes[at] ?? 0) ^ (1 << int(8));
      return bytes;
    case 1:
      bytes[at] = INTERESTING[int(INTERESTING.length)] ?? 0;
      return bytes;
    case 2:
      return Buffer.concat([file.subarray(0, at), INTERESTING.subarray(int(INTERESTING.length)), file.subarray(at)]);
    case 3:
      return Buffer.concat([file.subarray(0, at), file.subarray(at + 1 + int(64))]);
    case 4:
      return file.subarray(0, at);
    case 5:
      return Buffer.concat([file, randomBytesSeeded(1 + int(100), random)]);
    default:
      return Buffer.concat([file.subarray(0, at), file.subarray(at - int(Math.min(at, 80)), at), file.subarray(at)]);
  }
}

function randomBytesSeeded(n: number, random: () => number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
}

async function fuzz(file: Buffer, plaintext: Buffer, identities: readonly Identity[], seed: number, rounds: number): Promise<void> {
  const random = seededRandom(seed);
  const headerLength = file.indexOf("\n---") + 50;
  for (let round = 0; round < rounds; round++) {
    const mutated = mutate(file, headerLength, random);
    const outcome = await Promise.race([
      decryptBuffer(mutated, identities).then(
        (out) => ({ out }),
        (error: unknown) => ({ error }),
      ),
      sleep(5000).then(() => ({ hang: true })),
    ]);
    const context = `seed ${seed}, round ${round}`;
    assert.ok(!("hang" in outcome), `${context}: decryption did not finish in 5 s`);
    if ("out" in outcome) assert.ok(outcome.out.equals(plaintext), `${context}: decrypted to different plaintext`);
    else assert.ok(isSnapvmError(outcome.error), `${context}: threw a non-SnapvmError: ${String(outcome.error)}`);
  }
}

test("3000 seeded mutations of an X25519 file: each is the plaintext or a SnapvmError", async () => {
  const keys = generateIdentity();
  const plaintext = randomBytes(2 * CHUNK_SIZE + 100);
  const file = await encryptBuffer(plaintext, [parseRecipient(keys.recipient), parseRecipient(generateIdentity().recipient)]);
  await fuzz(file, plaintext, [parseIdentity(keys.identity)], 0x5eed, 3000);
});

test("300 seeded mutations of a passphrase file: each is the plaintext or a SnapvmError", async () => {
  const plaintext = randomBytes(1000);
  const file = await encryptBuffer(plaintext, [passphraseRecipient("pw", { workFactor: 8 })]);
  // A mutated work factor may ask for more; the cap keeps each attempt cheap.
  await fuzz(file, plaintext, [passphraseIdentity("pw", { maxWorkFactor: 10 })], 0xface, 300);
});
