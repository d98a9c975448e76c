import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { generateIdentity, parseIdentity } from "./key-text.ts";
import { passphraseIdentity, type Identity } from "./keys.ts";
import { decryptInPieces } from "./test-support.ts";

const DIR = join(import.meta.dirname, "fixtures", "cctv");

interface Vector {
  readonly expect: string;
  readonly payload: string;
  readonly identities: Identity[];
  readonly file: Buffer;
}

/** The testkit format: `key: value` lines, an empty line, then the age file (zlib when compressed). */
function parseVector(bytes: Buffer): Vector {
  const split = bytes.indexOf("\n\n");
  assert.ok(split > 0, "vector has no blank line after its header");
  const fields = bytes
    .subarray(0, split)
    .toString("utf8")
    .split("\n")
    .map((line) => {
      const colon = line.indexOf(": ");
      return [line.slice(0, colon), line.slice(colon + 2)] as const;
    });
  const value = (key: string): string | undefined => fields.find(([k]) => k === key)?.[1];
  const identities: Identity[] = fields.flatMap(([k, v]): Identity[] => {
    if (k === "identity") return [parseIdentity(v)];
    if (k === "passphrase") return [passphraseIdentity(v)];
    return [];
  });
  const body = bytes.subarray(split + 2);
  return {
    expect: value("expect") ?? "",
    payload: value("payload") ?? "",
    identities,
    file: value("compressed") === "zlib" ? inflateSync(body) : body,
  };
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

const stageOf = (error: unknown): unknown => (isSnapvmError(error, ErrorCode.DecryptFailed) ? error.details["stage"] : undefined);

for (const name of readdirSync(DIR)
  .filter((n) => n !== "README.md")
  .sort()) {
  test(`CCTV age vector ${name}`, async () => {
    const vector = parseVector(readFileSync(join(DIR, name)));
    // A vector without keys (a header failure) still needs an identity to get that far.
    const identities = vector.identities.length > 0 ? vector.identities : [parseIdentity(generateIdentity().identity)];
    const { plaintext, error } = await decryptInPieces(vector.file, identities, 8192);
    switch (vector.expect) {
      case "success":
        assert.equal(error, undefined);
        assert.equal(sha256(plaintext), vector.payload);
        break;
      case "no match":
        assert.ok(isSnapvmError(error, ErrorCode.WrongKey), `expected E_WRONG_KEY, got ${String(error)}`);
        break;
      case "HMAC failure":
        assert.equal(stageOf(error), "mac", String(error));
        break;
      case "header failure":
        assert.equal(stageOf(error), "header", String(error));
        break;
      case "payload failure":
        assert.equal(stageOf(error), "payload", String(error));
        // Whatever was released before the failure must be exactly the authenticated prefix.
        assert.equal(sha256(plaintext), vector.payload);
        break;
      default:
        assert.fail(`unknown expectation "${vector.expect}"`);
    }
  });
}
