import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sampleManifest } from "./compress-fixture.ts";
import { MANIFEST_MAX_BYTES, STATE_FORMAT_VERSION } from "./manifest.ts";
import { checkFormatVersion, readManifest } from "./read-manifest.ts";
import { MANIFEST_NAME } from "../paths/index.ts";

const [major, minor] = STATE_FORMAT_VERSION.split(".").map(Number) as [number, number];

describe("checkFormatVersion", () => {
  it("loads the same major with an older or the same minor, any patch", () => {
    for (const v of [`${major}.0.0`, `${major}.${minor}.0`, `${major}.${minor}.99`]) checkFormatVersion("/s", v);
  });

  it("refuses a newer minor and another major with E_STATE_INCOMPATIBLE, naming what it reads", () => {
    for (const v of [`${major}.${minor + 1}.0`, `${major + 1}.0.0`, `${major - 1}.0.0`]) {
      assert.throws(
        () => {
          checkFormatVersion("/s", v);
        },
        {
          code: "E_STATE_INCOMPATIBLE",
          message: `the saved state in /s has format ${v}; this snapvm reads ${major}.0–${major}.${minor}`,
        },
      );
    }
  });

  it("refuses a version that is not semver with E_STATE_INVALID", () => {
    for (const v of ["1.1", "v1.1.0", "1.1.0-rc1", ""]) {
      assert.throws(
        () => {
          checkFormatVersion("/s", v);
        },
        { code: "E_STATE_INVALID", message: `the saved state in /s is unusable: format version "${v}" is not semver` },
      );
    }
  });
});

describe("readManifest", () => {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-manifest-"));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (text: string): void => {
    writeFileSync(join(dir, MANIFEST_NAME), text);
  };

  it("reads a manifest of this format", async () => {
    write(JSON.stringify(sampleManifest()));
    assert.equal((await readManifest(dir)).snapshot?.tag, "warm");
  });

  it("checks the size cap before parsing: an oversized file is refused even though it is valid JSON", async () => {
    write(JSON.stringify({ ...sampleManifest(), padding: "x".repeat(MANIFEST_MAX_BYTES) }));
    await assert.rejects(readManifest(dir), {
      code: "E_STATE_INVALID",
      message: new RegExp(`${MANIFEST_NAME} is \\d+ bytes, more than the ${MANIFEST_MAX_BYTES} allowed`),
    });
  });

  it("refuses a newer minor before the shape check, and invalid JSON and a foreign file as invalid", async () => {
    write(JSON.stringify({ formatVersion: `${major}.${minor + 1}.0` }));
    await assert.rejects(readManifest(dir), { code: "E_STATE_INCOMPATIBLE" });
    write("{");
    await assert.rejects(readManifest(dir), { code: "E_STATE_INVALID", message: /is not valid JSON/ });
    write(JSON.stringify({ format: "other" }));
    await assert.rejects(readManifest(dir), { code: "E_STATE_INVALID", message: /is not a snapvm state manifest/ });
    rmSync(join(dir, MANIFEST_NAME));
    await assert.rejects(readManifest(dir), { code: "E_STATE_INVALID", message: /is missing/ });
  });
});
