import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { liveWorkerCount } from "../../util/worker-pool.ts";
import { decryptBuffer, encryptBuffer } from "./buffer.ts";
import { RUN_CHUNKS } from "./chunk-runs.ts";
import { CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE } from "./constants.ts";
import { createEncryptStream } from "./encrypt-stream.ts";
import { generateIdentity, parseIdentity, parseRecipient } from "./key-text.ts";
import { passphraseIdentity, passphraseRecipient } from "./keys.ts";
import { decryptInPieces } from "./test-support.ts";

const alice = generateIdentity();
const bob = generateIdentity();
const toAlice = [parseRecipient(alice.recipient)];
const asAlice = [parseIdentity(alice.identity)];

const stage =
  (expected: string) =>
  (error: unknown): boolean =>
    isSnapvmError(error, ErrorCode.DecryptFailed) && error.details["stage"] === expected;

/** Offset of the payload (after header and 16-byte nonce) in a file we made. */
function payloadOffset(file: Buffer): number {
  return file.indexOf("\n---") + file.subarray(file.indexOf("\n---") + 1).indexOf("\n") + 2 + 16;
}

/** Plaintext bytes of one run of chunks that a worker seals or opens: sizes around it cross the inline/worker line. */
const RUN = RUN_CHUNKS * CHUNK_SIZE;

for (const size of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, RUN, RUN + 1, 2 * RUN, 5 * 1024 * 1024 + 3]) {
  test(`${size} bytes round-trip, fed whole and in odd pieces`, async () => {
    const plaintext = randomBytes(size);
    const file = await encryptBuffer(plaintext, toAlice);
    const chunks = Math.max(1, Math.ceil(size / CHUNK_SIZE));
    assert.equal(file.length - payloadOffset(file), size + 16 * chunks);
    assert.ok((await decryptBuffer(file, asAlice)).equals(plaintext));
    const pieces = await decryptInPieces(file, asAlice, size < 200_000 ? 997 : 65_537);
    assert.equal(pieces.error, undefined);
    assert.ok(pieces.plaintext.equals(plaintext));
  });
}

test("a file to several recipients opens with each identity, and not with a stranger's", async () => {
  const carol = generateIdentity();
  const plaintext = randomBytes(100_000);
  const file = await encryptBuffer(
    plaintext,
    [alice, bob, carol].map((k) => parseRecipient(k.recipient)),
  );
  for (const keys of [alice, bob, carol]) assert.ok((await decryptBuffer(file, [parseIdentity(keys.identity)])).equals(plaintext));
  const stranger = [parseIdentity(generateIdentity().identity)];
  await assert.rejects(
    decryptBuffer(file, stranger),
    (error: unknown) => isSnapvmError(error, ErrorCode.WrongKey) && error.message === "age: no identity matched any of the 3 recipient stanza(s)",
  );
});

test("a passphrase round-trips; a wrong one is E_WRONG_KEY; a key cannot be mixed with it", async () => {
  const plaintext = randomBytes(70_000);
  const file = await encryptBuffer(plaintext, [passphraseRecipient("correct horse", { workFactor: 10 })]);
  assert.match(file.toString("latin1", 0, 80), /^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 10\n/);
  assert.ok((await decryptBuffer(file, [passphraseIdentity("correct horse")])).equals(plaintext));
  await assert.rejects(decryptBuffer(file, [passphraseIdentity("battery staple")]), (e: unknown) => isSnapvmError(e, ErrorCode.WrongKey));
  await assert.rejects(decryptBuffer(file, [passphraseIdentity("correct horse", { maxWorkFactor: 9 })]), stage("header"));
  await assert.rejects(encryptBuffer(plaintext, [passphraseRecipient("x", { workFactor: 10 }), ...toAlice]), (e: unknown) =>
    isSnapvmError(e, ErrorCode.InvalidArgument),
  );
});

test("the default scrypt work factor is 18, as age's", async () => {
  const file = await encryptBuffer(Buffer.from("hi"), [passphraseRecipient("pw")]);
  assert.match(file.toString("latin1", 0, 80), / 18\n/);
  assert.equal((await decryptBuffer(file, [passphraseIdentity("pw")])).toString(), "hi");
});

test("truncation anywhere in the payload is an error, never a shorter plaintext", async () => {
  const plaintext = randomBytes(3 * CHUNK_SIZE);
  const file = await encryptBuffer(plaintext, toAlice);
  const start = payloadOffset(file);
  for (const cut of [0, 1, 15, 16, ENCRYPTED_CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE + 1, 2 * ENCRYPTED_CHUNK_SIZE, file.length - start - 1]) {
    await assert.rejects(decryptBuffer(file.subarray(0, start + cut), asAlice), stage("payload"), `cut at ${cut}`);
  }
  await assert.rejects(decryptBuffer(file.subarray(0, start - 1), asAlice), stage("header"));
});

test("reordered or duplicated chunks, trailing bytes and a flipped bit are errors", async () => {
  const plaintext = randomBytes(3 * CHUNK_SIZE + 10);
  const file = await encryptBuffer(plaintext, toAlice);
  const start = payloadOffset(file);
  const chunk = (i: number): Buffer => file.subarray(start + i * ENCRYPTED_CHUNK_SIZE, start + (i + 1) * ENCRYPTED_CHUNK_SIZE);
  const head = file.subarray(0, start);
  const tail = file.subarray(start + 3 * ENCRYPTED_CHUNK_SIZE);
  const variants = {
    swapped: Buffer.concat([head, chunk(1), chunk(0), chunk(2), tail]),
    duplicated: Buffer.concat([head, chunk(0), chunk(0), chunk(1), chunk(2), tail]),
    dropped: Buffer.concat([head, chunk(0), chunk(2), tail]),
    trailing: Buffer.concat([file, Buffer.from([0])]),
    flipped: Buffer.from(file).fill((file[start + 5] ?? 0) ^ 1, start + 5, start + 6),
  };
  for (const [name, bad] of Object.entries(variants)) await assert.rejects(decryptBuffer(bad, asAlice), stage("payload"), name);
});

test("plaintext of a chunk is released only once it authenticates", async () => {
  const plaintext = randomBytes(3 * CHUNK_SIZE);
  const file = await encryptBuffer(plaintext, toAlice);
  const bad = Buffer.from(file);
  const at = payloadOffset(file) + ENCRYPTED_CHUNK_SIZE + 100; // inside chunk 1
  bad[at] = (bad[at] ?? 0) ^ 0x80;
  const outcome = await decryptInPieces(bad, asAlice, 1000);
  assert.ok(stage("payload")(outcome.error));
  assert.ok(outcome.plaintext.equals(plaintext.subarray(0, CHUNK_SIZE)), `released ${outcome.plaintext.length} bytes`);
});

test("a modified header is a MAC failure; a non-age input or an endless header fails early", async () => {
  const file = await encryptBuffer(randomBytes(10), [...toAlice, parseRecipient(bob.recipient)]);
  // Bob's stanza is not Alice's, so changing it leaves her file key intact but breaks the MAC.
  const bobsArg = file.indexOf("-> X25519 ", file.indexOf("-> X25519 ") + 1) + 10;
  const changed = Buffer.from(file);
  changed[bobsArg] = changed[bobsArg] === 0x41 ? 0x42 : 0x41;
  await assert.rejects(decryptBuffer(changed, asAlice), stage("mac"));
  await assert.rejects(decryptBuffer(Buffer.from("PK\u0003\u0004 a zip file"), asAlice), stage("header"));
  const endless = Buffer.concat([Buffer.from("age-encryption.org/v1\n-> grease\n"), Buffer.alloc(200_000, "A")]);
  await assert.rejects(decryptBuffer(endless, asAlice), (e: unknown) => stage("header")(e) && e instanceof Error && /larger than 65536/.test(e.message));
});

test("encryption respects backpressure: a slow consumer keeps the buffered bytes bounded", async () => {
  const MiB = 1024 * 1024;
  const piece = randomBytes(MiB);
  let sent = 0;
  const source = new Readable({
    read() {
      this.push(sent++ < 32 ? piece : null);
    },
  });
  const encrypt = createEncryptStream(toAlice);
  let most = 0;
  let received = 0;
  const slowSink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      most = Math.max(most, encrypt.writableLength + encrypt.readableLength);
      nextTurn().then(() => {
        callback();
      }, callback);
    },
  });
  await pipeline(source, encrypt, slowSink);
  assert.ok(received > 32 * MiB);
  assert.ok(most <= 3 * MiB, `the encrypt stream held ${most} bytes`);
});

test("the same key material and plaintext give the same file byte for byte (a resumed upload), which still opens", async () => {
  const plaintext = randomBytes(3 * CHUNK_SIZE + 5);
  const encrypt = async (options: Parameters<typeof createEncryptStream>[1]): Promise<Buffer> => {
    const parts: Buffer[] = [];
    await pipeline(
      Readable.from([plaintext]),
      createEncryptStream(toAlice, options),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          parts.push(chunk);
          callback();
        },
      }),
    );
    return Buffer.concat(parts);
  };
  let material: Parameters<NonNullable<NonNullable<Parameters<typeof createEncryptStream>[1]>["onKeyMaterial"]>>[0] | undefined;
  const first = await encrypt({ onKeyMaterial: (m) => (material = m) });
  assert.ok(material !== undefined);
  const again = await encrypt({ reuse: material });
  assert.ok(again.equals(first));
  assert.ok((await decryptBuffer(again, asAlice)).equals(plaintext));
  assert.ok(!(await encrypt({})).equals(first), "a fresh key otherwise");
});

test("on worker threads, a flipped bit, a cut or trailing bytes in a later run are errors at the right chunk, and no worker stays", async () => {
  const plaintext = randomBytes(3 * RUN + 5);
  const file = await encryptBuffer(plaintext, toAlice);
  const start = payloadOffset(file);
  const chunkAt = (index: number): number => start + index * ENCRYPTED_CHUNK_SIZE;
  const fails = async (bytes: Buffer, message: RegExp, chunk: number): Promise<void> => {
    const outcome = await decryptInPieces(bytes, asAlice, 65_537);
    assert.ok(stage("payload")(outcome.error), String(outcome.error));
    assert.match((outcome.error as Error).message, message);
    assert.equal((outcome.error as { details: Record<string, unknown> }).details["chunk"], chunk);
    // What came out is a prefix of the plaintext, and stops before the bad chunk.
    assert.ok(outcome.plaintext.length <= chunk * CHUNK_SIZE && plaintext.subarray(0, outcome.plaintext.length).equals(outcome.plaintext));
  };
  const flipped = Buffer.from(file);
  flipped[chunkAt(40) + 100] = (flipped[chunkAt(40) + 100] ?? 0) ^ 1;
  await fails(flipped, /chunk 40 does not authenticate/, 40);
  // Cut at a run boundary (whole runs, none final) and inside a later run.
  await fails(file.subarray(0, chunkAt(2 * RUN_CHUNKS)), /truncated/, 2 * RUN_CHUNKS);
  await fails(file.subarray(0, chunkAt(33) + 1000), /final chunk 33 does not authenticate/, 33);
  // The final chunk, then a whole run more.
  const finalOnly = await encryptBuffer(plaintext.subarray(0, RUN), toAlice);
  await fails(Buffer.concat([finalOnly, file.subarray(chunkAt(0), chunkAt(RUN_CHUNKS))]), /data after the final chunk/, RUN_CHUNKS);
  for (let i = 0; i < 100 && liveWorkerCount() > 0; i++) await nextTurn();
  for (let i = 0; i < 50 && liveWorkerCount() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(liveWorkerCount(), 0, "every chunk worker exited");
});
