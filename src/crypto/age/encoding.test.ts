import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { decodeBech32, encodeBech32 } from "./bech32.ts";

test("BIP-173 valid strings decode, and re-encode to their lower-case form", () => {
  for (const text of [
    "A12UEL5L",
    "a12uel5l",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
  ]) {
    const decoded = decodeBech32(text);
    assert.ok(decoded !== undefined, text);
    assert.equal(encodeBech32(decoded.hrp, decoded.data), text.toLowerCase());
  }
});

test("BIP-173 invalid strings are refused", () => {
  // no separator, empty HRP, bad data character, short checksum, checksum over upper-case HRP, mixed case.
  for (const text of ["pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8", "1qzzfhee", "A12uEL5L"]) {
    assert.equal(decodeBech32(text), undefined, text);
  }
});

test("the age spec's example keys decode to 32 bytes under their prefixes", () => {
  assert.equal(decodeBech32("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")?.data.length, 32);
  const identity = decodeBech32("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX");
  assert.equal(identity?.hrp, "age-secret-key-");
  assert.ok(identity.data.equals(Buffer.alloc(32, 0x42)));
});

test("base64 is unpadded and decoding accepts only the canonical encoding", () => {
  assert.equal(encodeBase64(Buffer.from("ab")), "YWI");
  assert.ok(decodeBase64("YWI")?.equals(Buffer.from("ab")));
  assert.equal(decodeBase64("")?.length, 0);
  for (const bad of ["YWI=", "YWJ", "Y", "YW I", "YW\nI", "YW-I", "YW_I"]) assert.equal(decodeBase64(bad), undefined, bad);
});
