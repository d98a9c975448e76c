import { timingSafeEqual } from "node:crypto";
import { hkdf32, hmacSha256 } from "./primitives.ts";

/** HMAC-SHA-256 keyed with HKDF(file key, salt empty, "header") over the header up to and including `---`. */
export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return hmacSha256(hkdf32(fileKey, Buffer.alloc(0), "header"), macInput);
}

export function headerMacMatches(fileKey: Uint8Array, macInput: Uint8Array, mac: Uint8Array): boolean {
  const expected = headerMac(fileKey, macInput);
  return mac.length === expected.length && timingSafeEqual(expected, mac);
}
