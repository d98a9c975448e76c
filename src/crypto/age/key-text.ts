import { randomBytes } from "node:crypto";
import { decodeBech32, encodeBech32 } from "./bech32.ts";
import { IDENTITY_HRP, RECIPIENT_HRP } from "./constants.ts";
import { invalidKey } from "./errors.ts";
import type { X25519Identity, X25519Recipient } from "./keys.ts";
import { X25519_KEY_SIZE, x25519PublicKey } from "./x25519.ts";

/** Text forms of X25519 keys: `age1…` recipients (lower case) and `AGE-SECRET-KEY-1…` identities. */

export function formatRecipient(recipient: X25519Recipient): string {
  return encodeBech32(RECIPIENT_HRP, recipient.publicKey);
}

export function formatIdentity(identity: X25519Identity): string {
  return encodeBech32(IDENTITY_HRP, identity.secretKey).toUpperCase();
}

/** A short, non-secret label for error messages: never echo a secret key back. */
function label(text: string): string {
  return text.length > 12 ? `${text.slice(0, 12)}…` : text;
}

/** Strict: one Bech32 `age1…` string, no surrounding space, a 32-byte key. */
export function parseRecipient(text: string): X25519Recipient {
  const decoded = decodeBech32(text);
  if (decoded === undefined) throw invalidKey(`not a valid age recipient: "${label(text)}" (bad Bech32 encoding)`);
  if (decoded.hrp !== RECIPIENT_HRP) {
    throw invalidKey(`not an age X25519 recipient: "${label(text)}" (prefix "${decoded.hrp}1", expected "age1")`);
  }
  if (decoded.data.length !== X25519_KEY_SIZE) {
    throw invalidKey(`age recipient "${label(text)}" holds ${decoded.data.length} bytes, expected 32`);
  }
  return { kind: "x25519", publicKey: decoded.data };
}

/** Strict: one Bech32 `AGE-SECRET-KEY-1…` string. Messages never include the key itself. */
export function parseIdentity(text: string): X25519Identity {
  const decoded = decodeBech32(text);
  if (decoded === undefined) throw invalidKey("not a valid age identity (bad Bech32 encoding)");
  if (decoded.hrp !== IDENTITY_HRP) throw invalidKey(`not an age X25519 identity (prefix "${label(decoded.hrp)}")`);
  if (decoded.data.length !== X25519_KEY_SIZE) {
    throw invalidKey(`age identity holds ${decoded.data.length} bytes, expected 32`);
  }
  return { kind: "x25519", secretKey: decoded.data, publicKey: x25519PublicKey(decoded.data) };
}

export function generateIdentity(): { identity: string; recipient: string } {
  const secretKey = randomBytes(X25519_KEY_SIZE);
  const identity: X25519Identity = { kind: "x25519", secretKey, publicKey: x25519PublicKey(secretKey) };
  return { identity: formatIdentity(identity), recipient: formatRecipient(identity) };
}
