import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { liveWorkerCount } from "../util/worker-pool.ts";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, FRAME_BYTES, RECORD_HEAD_BYTES, type BundleManifest, type FileEnd } from "./format.ts";
import { BundleReader } from "./read.ts";
import { writeBundle, type BundleSource } from "./write.ts";

let dir: string;
let sources: BundleSource[];
let bundle: Buffer;
let randomPart: Buffer;

function manifestFor(files: BundleSource[], overrides: Partial<BundleManifest> = {}): BundleManifest {
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: "2026-12-02T00:00:00.000Z",
    snapvmVersion: "0.1.0",
    source: { instance: "a", tag: "t", host: "h" },
    qemuVersion: "10.0.2",
    accel: "tcg",
    frameBytes: FRAME_BYTES,
    config: "cpus: 1\n",
    state: {},
    files: files.map((s) => s.entry),
    ...overrides,
  };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a whole bundle into `into`; returns the manifest. */
async function readAll(bytes: Buffer, into: string): Promise<BundleManifest> {
  const reader = new BundleReader(Readable.from([bytes]));
  const manifest = await reader.manifest();
  for (const file of manifest.files) await reader.readFile(file, join(into, file.name));
  await reader.finish();
  return manifest;
}

async function rejectsWith(bytes: Buffer, code: string | readonly string[], reason?: string, what = ""): Promise<void> {
  const into = await mkdtemp(join(dir, "bad-"));
  await assert.rejects(readAll(bytes, into), (error: unknown) => {
    assert.ok(error instanceof SnapvmError, `${what}: ${String(error)}`);
    assert.ok(typeof code === "string" ? error.code === code : code.includes(error.code), `${what}: ${error.code} ${error.message}`);
    if (reason !== undefined) assert.equal(error.details["reason"], reason, error.message);
    return true;
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "snapvm-bundle-"));
  // A 64 MiB sparse "RAM file": random data at 1 MiB, a compressible run at 40 MiB, holes elsewhere.
  const ram = join(dir, "memory.ram");
  const handle = await open(ram, "w");
  await handle.truncate(64 * 2 ** 20);
  randomPart = randomBytes(3 * 2 ** 20);
  await handle.write(randomPart, 0, randomPart.length, 2 ** 20);
  await handle.write(Buffer.alloc(2 ** 20, "snapvm "), 0, 2 ** 20, 40 * 2 ** 20);
  await handle.close();
  const small = join(dir, "devices.state");
  await writeFile(small, "device state ".repeat(1000));
  const empty = join(dir, "empty");
  await writeFile(empty, "");
  sources = [];
  for (const [path, name, role] of [
    [small, "devices.state", "device-state"],
    [ram, "memory.ram", "memory"],
    [empty, "id_ed25519.pub", "ssh-public-key"],
  ] as const) {
    const facts = await stat(path);
    sources.push({ path, entry: { name, role, sizeBytes: facts.size, allocatedBytes: facts.blocks * 512 } });
  }
  const written = writeBundle(manifestFor(sources), sources);
  bundle = await collect(written.stream);
  const figures = await written.figures;
  assert.equal(figures.bytes, bundle.length);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bundle round trip", () => {
  it("gives back every file byte for byte, with holes where the source had them, and sends no hole", async () => {
    const into = await mkdtemp(join(dir, "ok-"));
    await readAll(bundle, into);
    for (const source of sources) {
      assert.ok("path" in source);
      assert.ok((await readFile(join(into, source.entry.name))).equals(await readFile(source.path)), source.entry.name);
    }
    const ram = await stat(join(into, "memory.ram"));
    assert.equal(ram.size, 64 * 2 ** 20);
    assert.ok(ram.blocks * 512 <= 5 * 2 ** 20, `the imported RAM file allocates ${ram.blocks * 512} bytes`);
    // Two 4 MiB windows hold data: the random 3 MiB does not compress, the run does.
    assert.ok(bundle.length < randomPart.length + 2 ** 20, `bundle of ${bundle.length} bytes`);
  });
});

describe("frame table", () => {
  it("checks one frame from its table entry alone, as a reader that fetched only that range would", async () => {
    const reader = new BundleReader(Readable.from([bundle]));
    const manifest = await reader.manifest();
    const into = await mkdtemp(join(dir, "table-"));
    const ends: FileEnd[] = [];
    for (const file of manifest.files) ends.push(await reader.readFile(file, join(into, file.name)));
    await reader.finish();
    const ram = ends.find((end) => end.name === "memory.ram");
    const source = sources.find((s) => s.entry.name === "memory.ram");
    assert.ok(ram !== undefined && source !== undefined && "path" in source);
    const original = await readFile(source.path);
    const zstd = createRequire(import.meta.url)("zstd-napi") as { decompress(frame: Buffer): Buffer };
    assert.equal(ram.frames.length, 2);
    for (const [offset, length, at, bodyLength, digest] of ram.frames) {
      const record = bundle.subarray(at, at + RECORD_HEAD_BYTES + bodyLength);
      assert.equal(record.toString("latin1", 0, 4), "DATA");
      assert.equal(record.readUInt32BE(4), bodyLength);
      const body = record.subarray(RECORD_HEAD_BYTES);
      assert.equal(createHash("sha256").update(body).digest("hex"), digest, "the body matches its entry before it is decoded");
      assert.equal(Number(body.readBigUInt64BE(0)), offset);
      assert.equal(body.readUInt32BE(8), length);
      assert.ok(zstd.decompress(body.subarray(12)).equals(original.subarray(offset, offset + length)));
      const flipped = Buffer.from(body);
      flipped[bodyLength - 1] = (flipped[bodyLength - 1] ?? 0) ^ 0x10;
      assert.notEqual(createHash("sha256").update(flipped).digest("hex"), digest);
    }
    const overDigests = createHash("sha256");
    for (const frame of ram.frames) overDigests.update(Buffer.from(frame[4], "hex"));
    assert.equal(overDigests.digest("hex"), ram.sha256, "the file's digest is over its frames' digests");
  });
});

describe("frame workers", () => {
  async function noWorkersLeft(): Promise<void> {
    for (let i = 0; i < 100 && liveWorkerCount() > 0; i++) await sleep(20);
    assert.equal(liveWorkerCount(), 0, "every frame worker exited");
  }

  it("end with the stream: after an export, a failed export, a destroyed one and an import", async () => {
    await noWorkersLeft(); // the bundle made in before()
    const short = join(dir, "short");
    await writeFile(short, randomBytes(5 * 2 ** 20));
    const lying: BundleSource[] = [{ path: short, entry: { name: "memory.ram", role: "memory", sizeBytes: 64 * 2 ** 20, allocatedBytes: 64 * 2 ** 20 } }];
    await assert.rejects(
      collect(writeBundle(manifestFor(lying), lying).stream),
      /short ended at 5242880 bytes, before the 67108864 it had when the export began/,
    );
    await noWorkersLeft();
    const destroyed = writeBundle(manifestFor(sources), sources).stream;
    await new Promise<void>((resolve) => {
      destroyed.once("data", () => destroyed.destroy());
      destroyed.once("close", resolve);
    });
    await noWorkersLeft();
    await readAll(bundle, await mkdtemp(join(dir, "workers-")));
    await noWorkersLeft();
    const reader = new BundleReader(Readable.from([bundle.subarray(0, bundle.length - 1000)]));
    const manifest = await reader.manifest();
    await assert.rejects(async () => {
      for (const file of manifest.files) await reader.readFile(file, join(dir, `cut-${file.name}`));
    });
    await noWorkersLeft();
  });
});

describe("streamed files (a live offload)", () => {
  /** A stream in uneven chunks: 9 MiB + 5 bytes, a zero 4 MiB window in the middle. */
  function streamBytes(): Buffer {
    const bytes = Buffer.alloc(9 * 2 ** 20 + 5);
    randomBytes(2 ** 20).copy(bytes, 0);
    bytes.fill(7, 8 * 2 ** 20);
    return bytes;
  }
  function chunks(bytes: Buffer): AsyncIterable<Buffer> {
    const parts: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 999_999) parts.push(bytes.subarray(at, at + 999_999));
    return Readable.from(parts);
  }

  it("takes a stream of unknown length and a file whose length is read when its turn comes, and carries the trailer's final facts", async () => {
    const bytes = streamBytes();
    const layer = join(dir, "layer.qcow2");
    await writeFile(layer, "grew after the manifest was written");
    const streamed: BundleSource[] = [
      { entry: { name: "memory.state", role: "memory-stream", sizeBytes: 2 ** 20, allocatedBytes: 2 ** 20, streamed: true }, stream: chunks(bytes) },
      { entry: { name: "layer.qcow2", role: "disk-layer", sizeBytes: 3, allocatedBytes: 4096, streamed: true, backing: null }, path: layer },
    ];
    const written = writeBundle(manifestFor(streamed), streamed, { final: () => Promise.resolve({ pauseMs: 12.5 }) });
    const out = await collect(written.stream);
    const into = await mkdtemp(join(dir, "streamed-"));
    const reader = new BundleReader(Readable.from([out]));
    const manifest = await reader.manifest();
    const ends = [];
    for (const file of manifest.files) ends.push(await reader.readFile(file, join(into, file.name)));
    const trailer = await reader.finish();
    assert.deepEqual(trailer.final, { pauseMs: 12.5 });
    assert.deepEqual(
      ends.map((end) => end.sizeBytes),
      [bytes.length, 35],
    );
    assert.equal(ends[0]?.frames.length, 2, "the zero window is not sent");
    assert.ok((await readFile(join(into, "memory.state"))).equals(bytes));
    assert.equal(await readFile(join(into, "layer.qcow2"), "utf8"), "grew after the manifest was written");
  });

  it("refuses a streamed file whose end record gives no length", async () => {
    const streamed: BundleSource[] = [
      { entry: { name: "memory.state", role: "memory-stream", sizeBytes: 1, allocatedBytes: 1, streamed: true }, stream: chunks(streamBytes()) },
    ];
    const out = await collect(writeBundle(manifestFor(streamed), streamed).stream);
    const at = out.lastIndexOf(Buffer.from(',"sizeBytes":'));
    assert.ok(at > 0);
    // Drop the field (same record length: pad the JSON with spaces).
    const end = out.indexOf(Buffer.from("}"), at);
    const cut = Buffer.concat([out.subarray(0, at), Buffer.alloc(end - at, " "), out.subarray(end)]);
    await rejectsWith(cut, ErrorCode.BundleInvalid, "bad-record");
  });
});

describe("bundle bad input", () => {
  it("refuses a truncated bundle at any point", async () => {
    await rejectsWith(bundle.subarray(0, 4), ErrorCode.BundleInvalid);
    for (const cut of [20, 200, Math.floor(bundle.length / 2), bundle.length - 1])
      await rejectsWith(bundle.subarray(0, cut), ErrorCode.BundleInvalid, "truncated");
  });
  it("refuses a flipped byte inside a frame or in the trailer", async () => {
    const inFrame = Buffer.from(bundle);
    const at = bundle.indexOf(randomPart.subarray(0, 16)); // stored (incompressible) data sits in the frame as is
    assert.ok(at > 0);
    inFrame.writeUInt8(inFrame.readUInt8(at + 100) ^ 1, at + 100);
    await rejectsWith(inFrame, ErrorCode.BundleInvalid);
    const inTrailer = Buffer.from(bundle);
    const trailer = bundle.lastIndexOf(Buffer.from('"sha256":"'));
    inTrailer[trailer + 12] = inTrailer[trailer + 12] === 0x61 ? 0x62 : 0x61;
    await rejectsWith(inTrailer, ErrorCode.BundleInvalid, "digest-mismatch");
  });
  it("refuses bytes after the trailer, input that is not a bundle, and an age file without a key", async () => {
    await rejectsWith(Buffer.concat([bundle, Buffer.from("x")]), ErrorCode.BundleInvalid, "trailing-bytes");
    await rejectsWith(Buffer.from("PK\x03\x04 not a bundle at all"), ErrorCode.BundleInvalid, "not-a-bundle");
    await rejectsWith(Buffer.from("age-encryption.org/v1\n-> X25519 abc\n"), ErrorCode.WrongKey);
  });
  it("refuses a flipped bit anywhere: in every record's head and body, and in a zstd frame's header bits that do not change what it decodes to", async () => {
    // A small bundle (a frame of random bytes and a compressible run, and a small file) keeps a hundred reads quick.
    const mixed = join(dir, "mixed");
    await writeFile(mixed, Buffer.concat([randomBytes(100_000), Buffer.alloc(200_000, "snapvm ")]));
    const small: BundleSource[] = [
      sources[0] as BundleSource,
      { path: mixed, entry: { name: "memory.ram", role: "memory", sizeBytes: 300_000, allocatedBytes: 303_104 } },
    ];
    const bytes = await collect(writeBundle(manifestFor(small), small).stream);
    const positions: { at: number; bit: number }[] = [
      { at: 0, bit: 0 },
      { at: 7, bit: 1 },
    ];
    for (let at = 8; at < bytes.length;) {
      const kind = bytes.toString("latin1", at, at + 4);
      const length = bytes.readUInt32BE(at + 4);
      const body = at + RECORD_HEAD_BYTES;
      positions.push(
        { at, bit: 1 },
        { at: at + 6, bit: 0 },
        { at: body, bit: 2 },
        { at: body + Math.floor(length / 2), bit: 5 },
        { at: body + length - 1, bit: 0 },
      );
      // In a DATA body, its zstd frame's descriptor (bit 4 is unused by decoders) and window descriptor: a decoder
      // reads past some of these flips with no change in output, so only the frame's digest catches them.
      if (kind === "DATA") for (let bit = 0; bit < 8; bit++) positions.push({ at: body + 12 + 4, bit }, { at: body + 12 + 5, bit });
      at = body + length;
    }
    for (const { at, bit } of positions) {
      const flipped = Buffer.from(bytes);
      flipped.writeUInt8(flipped.readUInt8(at) ^ (1 << bit), at);
      await rejectsWith(flipped, [ErrorCode.BundleInvalid, ErrorCode.BundleVersion], undefined, `bit ${bit} of byte ${at}`);
    }
  });
  it("refuses a newer format version with E_BUNDLE_VERSION before anything else", async () => {
    for (const formatVersion of ["2.0.0", "1.9.0", "1.0.0"]) {
      const newer = await collect(writeBundle(manifestFor(sources, { formatVersion, files: [] }), []).stream);
      await rejectsWith(newer, ErrorCode.BundleVersion);
    }
  });
  it("refuses a manifest that lists a file name that could leave the directory", async () => {
    const bad = manifestFor(sources, { files: [{ name: "../escape", role: "memory", sizeBytes: 1, allocatedBytes: 1 }] });
    await rejectsWith(await collect(writeBundle(bad, []).stream), ErrorCode.BundleInvalid, "bad-manifest");
  });
});
