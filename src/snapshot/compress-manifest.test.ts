import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compressedEntry, isCompressible, leftoverNames, withCompressedFiles, withoutCompression } from "./compress-manifest.ts";
import { sampleManifest } from "./compress-fixture.ts";
import { checkFormatVersion } from "./read-manifest.ts";

describe("compression in the manifest", () => {
  test("compressing marks exactly the memory file, keeps its original entry, and flips the snapshot facts", () => {
    const before = sampleManifest();
    const [memory, devices] = before.files;
    assert.ok(memory !== undefined && devices !== undefined);
    const entry = compressedEntry(memory, 5, { apparentBytes: 1000, allocatedBytes: 4096 });
    const after = withCompressedFiles(before, [entry, devices], 5);
    assert.equal(after.formatVersion, "1.1.0");
    assert.deepEqual(after.files[0], {
      name: "memory.ram.zst",
      role: "memory",
      sizeBytes: 1000,
      allocatedBytes: 4096,
      compression: { algorithm: "zstd", level: 5, original: { name: "memory.ram", sizeBytes: 64 * 1024 * 1024, allocatedBytes: 4096 } },
    });
    assert.deepEqual(after.files[1], devices);
    assert.deepEqual(after.snapshot?.compressed, { algorithm: "zstd", level: 5, sizeBytes: 1000 });
    assert.deepEqual(withoutCompression(after), { ...before, formatVersion: "1.1.0" }, "decompressing restores every entry exactly");
  });

  test("only memory files inside the directory are compressible", () => {
    const base = { sizeBytes: 1, allocatedBytes: 1 };
    assert.equal(isCompressible({ name: "memory.ram", role: "memory", ...base }), true);
    assert.equal(isCompressible({ name: "memory.state", role: "memory-stream", ...base }), true);
    assert.equal(isCompressible({ name: "devices.state", role: "device-state", ...base }), false);
    assert.equal(isCompressible({ name: "../memory.ram", role: "memory", ...base }), false, "a suspend state's RAM file is the instance's own");
  });

  test("leftovers are only the names compression writes; anything else stays", () => {
    const uncompressed = sampleManifest();
    const entries = ["manifest.json", "memory.ram", "devices.state", "memory.ram.zst", ".memory.ram.zst.tmp-123", ".compress.lock", "notes.txt"];
    assert.deepEqual(leftoverNames(uncompressed, entries), ["memory.ram.zst", ".memory.ram.zst.tmp-123"]);
    const [memory, devices] = uncompressed.files;
    assert.ok(memory !== undefined && devices !== undefined);
    const compressed = withCompressedFiles(uncompressed, [compressedEntry(memory, 3, { apparentBytes: 1, allocatedBytes: 1 }), devices], 3);
    assert.deepEqual(leftoverNames(compressed, [...entries, ".memory.ram.tmp-9"]), ["memory.ram", ".memory.ram.zst.tmp-123", ".memory.ram.tmp-9"]);
  });

  test("this reader loads 1.0 and 1.1 states and refuses a newer minor or another major", () => {
    checkFormatVersion("/s", "1.0.0");
    checkFormatVersion("/s", "1.1.0");
    checkFormatVersion("/s", "1.1.7");
    assert.throws(
      () => {
        checkFormatVersion("/s", "1.2.0");
      },
      { code: "E_STATE_INCOMPATIBLE", message: "the saved state in /s has format 1.2.0; this snapvm reads 1.0–1.1" },
    );
    assert.throws(
      () => {
        checkFormatVersion("/s", "2.0.0");
      },
      { code: "E_STATE_INCOMPATIBLE" },
    );
  });
});
