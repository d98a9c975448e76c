import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 192 random bits, URL-safe: fresh for every `snapvm ui`, never stored. */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Compares in constant time (over digests, so the lengths may differ). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined || given === "") return false;
  const digest = (s: string): Buffer => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
